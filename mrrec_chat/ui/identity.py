"""Who the user is: a dataset user, an anonymous new user kept in the browser, or a signed-in
Hugging Face account (Gradio-free, unit-testable).

Rules:
- A signed-in account (OAuth on Spaces) is always the user: ``hf-<sanitized username>``.
- ``hf-`` ids belong to accounts: a browser-stored value or an API call may only use one when
  the same account is signed in, so nobody can read a known account's memory by typing its id.
- Otherwise the id stored in the browser (``gr.BrowserState``) is reused when it is valid, so an
  anonymous user keeps the same id across page reloads; else a fresh ``new-…`` id is made.
"""

from __future__ import annotations

import re
from typing import Callable

from mrrec_chat.memory.schema import InvalidUserId, validate_user_id

OAUTH_PREFIX = "hf-"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class NotYourUser(PermissionError):
    """The id belongs to a signed-in account other than the caller's."""


def oauth_user_id(username: str) -> str:
    """Map a Hugging Face username to a safe user id: ``hf-`` + the sanitized name."""
    safe = _UNSAFE.sub("-", str(username or "")).strip("-.")[:100]
    if not safe:
        raise InvalidUserId(f"Cannot make a user id from the account name {str(username)[:40]!r}.")
    return validate_user_id(OAUTH_PREFIX + safe)


def is_account_id(user_id: str) -> bool:
    return str(user_id).startswith(OAUTH_PREFIX)


def authorize(user_id: object, signed_in_username: str | None) -> str:
    """Validate `user_id` for a caller; account ids need that account to be signed in.

    Raises InvalidUserId (malformed) or NotYourUser (someone else's account).
    """
    uid = validate_user_id(user_id)
    if is_account_id(uid):
        if not signed_in_username or oauth_user_id(signed_in_username) != uid:
            raise NotYourUser(f"{uid!r} belongs to a signed-in Hugging Face account; sign in as that "
                              f"account to use it.")
    return uid


def resolve_user(stored: object, signed_in_username: str | None, new_user_id: Callable[[], str]) -> tuple[str, str]:
    """The user for a page load: (user_id, how) with how in signed-in | returning | new."""
    if signed_in_username:
        return oauth_user_id(signed_in_username), "signed-in"
    if isinstance(stored, str) and stored:
        try:
            return authorize(stored, None), "returning"
        except (InvalidUserId, NotYourUser):
            pass
    return new_user_id(), "new"
