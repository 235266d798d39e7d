"""Hugging Face Spaces helpers that are no-ops everywhere else.

`gpu` is `spaces.GPU` when the `spaces` package is importable (ZeroGPU Spaces need the function
that runs the model to carry it), and an identity decorator otherwise, usable both bare
(`@gpu`) and with arguments (`@gpu(duration=120)`).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from typing import Any, Callable

log = logging.getLogger(__name__)


def _identity_gpu(fn: Callable | None = None, **_kwargs: Any):
    if fn is not None and callable(fn):
        return fn
    return lambda f: f


try:  # pragma: no cover - only on Spaces
    import spaces  # type: ignore[import-not-found]

    gpu = spaces.GPU
    HAS_SPACES = True
except Exception:  # noqa: BLE001 - any import problem means "not on a ZeroGPU Space"
    gpu = _identity_gpu
    HAS_SPACES = False


def oauth_enabled() -> bool:
    """True when the Space has `hf_oauth: true` (the platform then sets OAUTH_CLIENT_ID) and
    Gradio's OAuth extras (`gradio[oauth]`: itsdangerous, authlib) are installed; without them
    Gradio would fail at launch, so the app stays anonymous-only and says why in the log."""
    if not os.environ.get("OAUTH_CLIENT_ID"):
        return False
    missing = [name for name in ("itsdangerous", "authlib") if importlib.util.find_spec(name) is None]
    if missing:
        log.warning("OAUTH_CLIENT_ID is set but %s is not installed (pip install 'gradio[oauth]'); "
                    "sign-in is disabled, users stay anonymous.", ", ".join(missing))
        return False
    return True
