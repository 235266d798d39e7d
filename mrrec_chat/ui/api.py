"""The programmatic API of the chat app (gradio_client), one method per pinned endpoint name.

`ApiHandlers` holds the shared `Assistant` and its memory API; its methods are the functions behind
/recommend, /recommend_in_chat, /memory, /memory_search, /memory_add, /memory_edit, /memory_delete, /feedback, /forget
and /export, and `build_app` (ui/app.py) registers them with `gr.api` under those names (`ENDPOINTS`). Each checks that the caller may act for `user_id` (`identity.authorize`: on a Space with
sign-in, only for their own account) and answers errors as data (`{"error": ...}`), never as an
exception, so a client always gets a well-formed reply.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import gradio as gr

from mrrec_chat.agent import events as ev
from mrrec_chat.memory.schema import InvalidUserId
from mrrec_chat.ui.handlers import _clamp, _memory_not_found, _username
from mrrec_chat.ui.identity import NotYourUser, authorize

# api name -> method name; the names are public (gradio_client callers use them): keep them stable.
ENDPOINTS = {"recommend": "recommend", "recommend_in_chat": "recommend_in_chat", "memory": "memory_json", "memory_search": "memory_search",
             "memory_add": "memory_add", "memory_edit": "memory_edit", "memory_delete": "memory_delete",
             "feedback": "feedback_api", "forget": "forget_api", "export": "export_api"}

log = logging.getLogger(__name__)


def _chat_context(earlier: Any, shown: Any) -> tuple[list[str], list[list[str]]]:
    """`earlier` and `shown` of /recommend checked: lists of strings, the last four turns kept."""
    earlier = [] if earlier is None else earlier
    shown = [] if shown is None else shown
    if not isinstance(earlier, list) or not all(isinstance(t, str) for t in earlier):
        raise ValueError("earlier must be a list of the chat's earlier requests (strings).")
    if not isinstance(shown, list) or not all(isinstance(ids, list) and all(isinstance(i, str) for i in ids)
                                              for ids in shown):
        raise ValueError("shown must be a list of lists of item ids (one list per earlier turn).")
    return [t[:300] for t in earlier[-4:]], [ids[:50] for ids in shown[-4:]]


class ApiHandlers:
    """The functions `build_app` registers with `gr.api`, as methods (no session state)."""

    def __init__(self, assistant: Any, memory: Any):
        self.assistant = assistant
        self.memory = memory

    @staticmethod
    def _api_user(user_id: str, profile: Any) -> str:
        return authorize(user_id, _username(profile))

    def recommend(self, user_id: str, request: str, profile: gr.OAuthProfile | None = None) -> dict:
        """One chat turn for `user_id`; returns items, the profile and the cited memory ids."""
        return self.recommend_in_chat(user_id, request, None, None, profile)

    def recommend_in_chat(self, user_id: str, request: str, earlier: list[str] | None = None,
                          shown: list[list[str]] | None = None, profile: gr.OAuthProfile | None = None) -> dict:
        """/recommend within a chat: stateless like every endpoint, so a client that wants follow-ups
        ("something else") passes the chat's earlier requests (`earlier`, oldest first) and the item
        ids each of those turns returned (`shown`, one list per turn), as the browser session does.
        A separate endpoint, so that /recommend(user_id, request) keeps its two inputs."""
        try:
            self._api_user(user_id, profile)
            earlier, shown = _chat_context(earlier, shown)
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return {"error": str(exc)}
        turn = ev.collect(self.assistant.chat(user_id, request, earlier, shown=shown))
        result: dict = {"user_id": user_id, "notices": [n.text for n in turn.notices],
                        "items": [{"item_id": r.item.item_id, "title": r.item.display_title,
                                   "categories": list(r.item.categories), "reason": r.reason,
                                   "memory_ids": r.memory_ids} for r in turn.items]}
        if turn.answer is not None:
            result.update(profile=turn.answer.ideal_item_profile, memory_ids=turn.answer.useful_memory_ids,
                          fallback=turn.answer.fallback)
        if turn.written is not None:
            result["memory_written"] = {"added": turn.written.added, "superseded": turn.written.superseded}
        return result

    def memory_json(self, user_id: str, profile: gr.OAuthProfile | None = None) -> str:
        """The user's current memory entries as a JSON list."""
        try:
            self._api_user(user_id, profile)
        except (InvalidUserId, NotYourUser) as exc:
            return json.dumps({"error": str(exc)})
        return json.dumps([e.to_dict() for e in self.memory.list(user_id)], ensure_ascii=False)

    def memory_search(self, user_id: str, query: str, k: int = 10, profile: gr.OAuthProfile | None = None) -> dict:
        """The user's current entries most similar to `query`, with their similarity."""
        try:
            self._api_user(user_id, profile)
            found = self.memory.search(user_id, query, k=_clamp(k, 1, 100, 10))
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return {"error": str(exc)}
        except Exception:  # noqa: BLE001 - the API answers with data, never a Gradio exception
            log.exception("memory search failed for %s", user_id)
            return {"error": "The memory store could not answer this search; please try again."}
        return {"results": [dict(m.entry.to_dict(), score=round(float(m.score), 4)) for m in found]}

    def memory_add(self, user_id: str, text: str, profile: gr.OAuthProfile | None = None) -> dict:
        """Remember a hand-written statement (chat level)."""
        try:
            self._api_user(user_id, profile)
            return {"entry": self.memory.add(user_id, text).to_dict()}
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return {"error": str(exc)}

    def memory_edit(self, user_id: str, memory_id: str, text: str, profile: gr.OAuthProfile | None = None) -> dict:
        """Replace one entry's text (same id; the old text stays in the history)."""
        try:
            self._api_user(user_id, profile)
            return {"entry": self.memory.edit(user_id, memory_id, text).to_dict()}
        except (InvalidUserId, NotYourUser, _memory_not_found(), ValueError) as exc:
            return {"error": str(exc)}

    def memory_delete(self, user_id: str, memory_id: str, profile: gr.OAuthProfile | None = None) -> dict:
        """Delete one entry of the user."""
        try:
            self._api_user(user_id, profile)
            self.memory.delete(user_id, memory_id)
        except (InvalidUserId, NotYourUser, _memory_not_found(), ValueError) as exc:
            return {"error": str(exc)}
        return {"deleted": memory_id}

    def feedback_api(self, user_id: str, item_id: str, kind: str, profile: gr.OAuthProfile | None = None) -> dict:
        """👍 (up), 👎 (down) or seen on an item; stored as a behavior record."""
        try:
            self._api_user(user_id, profile)
            return {"entry": self.assistant.feedback(user_id, item_id, kind).to_dict()}
        except (InvalidUserId, NotYourUser, KeyError, ValueError) as exc:
            return {"error": str(exc).strip("'\"")}

    def forget_api(self, user_id: str, profile: gr.OAuthProfile | None = None) -> dict:
        """Delete everything stored about the user; returns the counts removed."""
        try:
            self._api_user(user_id, profile)
            return {"forgotten": self.memory.forget_user(user_id)}
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return {"error": str(exc)}

    def export_api(self, user_id: str, profile: gr.OAuthProfile | None = None) -> str:
        """Everything stored about the user (entries, superseded ones, history) as JSON text."""
        try:
            self._api_user(user_id, profile)
            return self.memory.export_json(user_id)
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return json.dumps({"error": str(exc)})
