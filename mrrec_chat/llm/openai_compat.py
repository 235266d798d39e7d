"""Any OpenAI-compatible server as the policy LLM (vLLM in production, `transformers serve` here).

    MRREC_LLM_BACKEND=openai MRREC_LLM_BASE_URL=http://127.0.0.1:8000/v1 MRREC_LLM_MODEL=<served name>

What it does with the server, and why:

- **Continuing the assistant turn.** The MR.Rec trajectory is one assistant turn continued after
  each tool call. The prefix is sent as a final assistant message with vLLM's
  `continue_final_message: true, add_generation_prompt: false`, which continues exactly the
  local format. Servers that reject those fields (`transformers serve` answers 422 "Unexpected
  fields") are detected on the first such answer and from then on get the prefix as a finished
  assistant message; the model then starts a new turn after it, and an echoed opening tag
  (`<answer>`) is dropped so the parser sees the same text.
- **Stop sequences** are sent (the API takes at most four) and also applied here, so a server
  that ignores some still never returns text past a stop string.
- **JSON constraints.** The final-answer step (the prefix ends with `<answer>`) carries
  `response_format` with the answer's JSON schema, which vLLM enforces by guided decoding; a
  caller can pass its own `response_format`. A server that rejects the field is detected once
  and not sent it again; `transformers serve` accepts and ignores it (its output is parsed
  tolerantly as with any model).
- **Streaming.** `stream_chat()` yields text as it arrives (SSE); with `stream=True` the agent's
  calls stream too, which lets a stop string end generation as soon as it appears even on a
  server that does not support `stop`.
- **Timeouts and retries.** Connect timeout min(10 s, timeout), read timeout `timeout_s` per
  chunk, and an overall deadline of `timeout_s` per attempt for streamed replies. Connection
  errors, timeouts, 429 and 5xx are retried (`retries` times, exponential backoff, `Retry-After`
  honoured up to 10 s); other 4xx are not (retrying cannot help). Every failure ends in an
  `LLMError` whose message says what happened and what to do.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from typing import Any, Iterator

import httpx

from mrrec_chat.llm.base import (
    ANSWER_SCHEMA,
    Completion,
    LLMBackend,
    LLMError,
    cut_at_repeat,
    cut_at_stop,
    is_answer_step,
)

log = logging.getLogger(__name__)

ANSWER_FORMAT: dict[str, Any] = {"type": "json_schema",
                                 "json_schema": {"name": "mrrec_answer", "schema": ANSWER_SCHEMA}}
MAX_API_STOP = 4  # the OpenAI API accepts at most four stop sequences
MAX_RETRY_AFTER_S = 10.0
_CONTINUE_FIELDS = ("continue_final_message", "add_generation_prompt")
_OPEN_TAG = re.compile(r"<([a-z_]+)>\s*$")


class _Retryable(Exception):
    """An attempt failed in a way another attempt may fix (connection, timeout, 429, 5xx)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Rejected(Exception):
    """The server refused the request (4xx other than 429): retrying the same request cannot help."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class OpenAICompatLLM(LLMBackend):
    """Chat completions against an OpenAI-compatible `/v1` endpoint (thread-safe)."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout_s: float = 60.0, retries: int = 2, *,
                 stream: bool = False, json_answers: bool = True, backoff_s: float = 0.5,
                 transport: httpx.BaseTransport | None = None):
        if not base_url:
            raise LLMError("llm_backend=openai needs MRREC_LLM_BASE_URL, e.g. http://localhost:8000/v1.")
        if not str(base_url).startswith(("http://", "https://")):
            raise LLMError(f"MRREC_LLM_BASE_URL must start with http:// or https:// (got {base_url!r}), "
                           f"e.g. http://localhost:8000/v1.")
        if not model:
            raise LLMError("llm_backend=openai needs MRREC_LLM_MODEL: the model name the server serves.")
        self.base_url = str(base_url).rstrip("/")
        self.name = model
        self.timeout_s = float(timeout_s)
        self.retries = max(0, int(retries))
        self.stream = stream
        self.json_answers = json_answers
        self.backoff_s = backoff_s
        # What this server accepts; learned from its first refusal and kept (None = not known yet).
        self.supports_continue: bool | None = None
        self.supports_response_format: bool | None = None
        self._capability_lock = threading.Lock()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout = httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s))
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    @classmethod
    def from_settings(cls, settings) -> "OpenAICompatLLM":
        return cls(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout_s)

    def close(self) -> None:
        self._client.close()

    # --- the LLMBackend interface ---------------------------------------------------------
    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None, temperature=0.0,
                      response_format: dict[str, Any] | None = None) -> Completion:
        """Continue the assistant message `assistant_prefix`; the text ends before any stop string."""
        started = time.perf_counter()
        if self.stream:
            pieces: list[str] = []
            usage: dict[str, Any] = {}
            finish = self._stream_into(pieces, usage, messages, assistant_prefix, max_new_tokens, stop,
                                       temperature, response_format)
            text = "".join(pieces)
            stopped = finish == "stop"
        else:
            body, continued = self._request(messages, assistant_prefix, max_new_tokens, stop, temperature,
                                            response_format, stream=False)
            try:
                choice = body["choices"][0]
                text = choice.get("message", {}).get("content") or ""
                finish = choice.get("finish_reason") or ""
            except (KeyError, IndexError, TypeError, AttributeError) as exc:
                raise LLMError(f"The LLM server at {self.base_url} sent an answer without choices "
                               f"({str(body)[:200]}); is it an OpenAI-compatible /v1 endpoint?") from exc
            usage = body.get("usage") or {}
            if not continued:
                text = strip_echo(assistant_prefix, text)
            text, stopped = cut_at_stop(text, stop)
        # a reply that loops ("The best film is X. The best film is X. ...") ends where it repeats,
        # as in the in-process backends (a streamed one stops being read there)
        text, looped = cut_at_repeat(text)
        reason = "repeat" if looped else "stop" if stopped or finish == "stop" else finish
        return Completion(text=text, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0),
                          seconds=time.perf_counter() - started, stop_reason=reason)

    def stream_chat(self, messages, assistant_prefix: str = "", *, max_new_tokens: int = 96,
                    stop: list[str] | None = None, temperature: float = 0.0,
                    response_format: dict[str, Any] | None = None) -> Iterator[str]:
        """Yield the continuation's text as the server streams it; ends before any stop string.

        Retries happen only before the first piece of text (a half-streamed answer cannot be
        taken back); a failure after that raises LLMError.
        """
        body_iter = self._open_stream(messages, assistant_prefix, max_new_tokens, stop, temperature, response_format)
        yield from body_iter

    def warm_up(self) -> None:
        """Check the server and the model name once at start, with a clear error if wrong."""
        try:
            response = self._client.get(f"{self.base_url}/models", timeout=min(10.0, self.timeout_s))
            served = [m.get("id") for m in response.json().get("data", [])] if response.status_code == 200 else []
        except (httpx.HTTPError, ValueError, AttributeError):
            served = []
        if served and self.name not in served:
            log.warning("The LLM server at %s lists models %s, not %r; requests may be refused.",
                        self.base_url, served[:5], self.name)
        self.chat([{"role": "user", "content": "Hi"}], max_new_tokens=2)

    # --- requests -------------------------------------------------------------------------
    def _payload(self, messages, prefix: str, max_new_tokens: int, stop, temperature: float,
                 response_format: dict[str, Any] | None, stream: bool) -> tuple[dict[str, Any], bool]:
        """The request body, and whether it asks the server to continue the prefix in place."""
        payload: dict[str, Any] = {"model": self.name, "messages": [dict(m) for m in messages],
                                   "max_tokens": int(max_new_tokens), "temperature": float(temperature)}
        stops = [s for s in (stop or []) if s]
        if stops:
            payload["stop"] = stops[:MAX_API_STOP]
        continued = False
        if prefix:
            payload["messages"].append({"role": "assistant", "content": prefix})
            if self.supports_continue is not False:
                payload.update(continue_final_message=True, add_generation_prompt=False)
                continued = True
        if response_format is None and self.json_answers and is_answer_step(prefix):
            response_format = ANSWER_FORMAT
        if response_format is not None and self.supports_response_format is not False:
            payload["response_format"] = response_format
        if stream:
            payload["stream"] = True
        return payload, continued

    def _learn(self, rejected: _Rejected, payload: dict[str, Any]) -> bool:
        """After a 400/422: drop an optional field the server refused; True if worth resending."""
        if rejected.status not in (400, 422):
            return False
        detail = rejected.detail.lower()
        with self._capability_lock:
            if "continue_final_message" in payload and any(f in detail for f in _CONTINUE_FIELDS):
                self.supports_continue = False
                log.info("%s does not continue assistant messages; sending the prefix as a finished turn.",
                         self.base_url)
                return True
            if "response_format" in payload and ("response_format" in detail or "json_schema" in detail):
                self.supports_response_format = False
                log.info("%s refuses response_format; JSON answers are parsed without a constraint.", self.base_url)
                return True
        return False

    def _request(self, messages, prefix, max_new_tokens, stop, temperature, response_format, *,
                 stream: bool) -> tuple[dict[str, Any], bool]:
        """POST with retries; returns (JSON body, continued-in-place)."""
        for _ in range(3):  # at most two optional fields to learn about
            payload, continued = self._payload(messages, prefix, max_new_tokens, stop, temperature,
                                               response_format, stream)
            try:
                return self._with_retries(lambda: self._post_json(payload)), continued
            except _Rejected as rejected:
                if not self._learn(rejected, payload):
                    raise self._rejected_error(rejected) from None
        raise LLMError(f"The LLM server at {self.base_url} keeps refusing the request.")

    def _with_retries(self, attempt_fn):
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                return attempt_fn()
            except _Retryable as exc:
                last = exc
                if attempt == self.retries:
                    break
                delay = self.backoff_s * (2 ** attempt)
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, MAX_RETRY_AFTER_S))
                log.warning("LLM server %s: %s; retrying in %.1f s (%d/%d)", self.base_url, exc, delay,
                            attempt + 1, self.retries)
                time.sleep(delay)
        raise LLMError(f"The LLM server at {self.base_url} did not answer ({last}) after {self.retries + 1} "
                       f"attempt(s). Check that it is running and serves model {self.name!r} (raise "
                       f"MRREC_LLM_TIMEOUT_S for a slow server), or use MRREC_LLM_BACKEND=local.")

    def _post_json(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.post(f"{self.base_url}/chat/completions", json=payload)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {self.timeout_s:.0f} s ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        self._check_status(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise _Retryable(f"the reply was not JSON: {response.text[:120]!r}") from exc
        if not isinstance(body, dict):
            raise _Retryable(f"the reply was not a JSON object: {str(body)[:120]!r}")
        return body

    @staticmethod
    def _check_status(response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        try:
            detail = response.read().decode("utf-8", "replace")[:500]
        except httpx.HTTPError:
            detail = ""
        if status == 429 or status >= 500:
            retry_after = response.headers.get("retry-after")
            try:
                seconds = float(retry_after) if retry_after else None
            except ValueError:
                seconds = None
            raise _Retryable(f"HTTP {status} {detail[:160]}".strip(), seconds)
        raise _Rejected(status, detail)

    def _rejected_error(self, rejected: _Rejected) -> LLMError:
        hint = {401: "check MRREC_LLM_API_KEY", 403: "check MRREC_LLM_API_KEY and its permissions",
                404: "check MRREC_LLM_BASE_URL (it usually ends in /v1) and MRREC_LLM_MODEL"}.get(
            rejected.status, f"check that the server serves model {self.name!r} (MRREC_LLM_MODEL)")
        return LLMError(f"The LLM server at {self.base_url} refused the request (HTTP {rejected.status}: "
                        f"{rejected.detail[:300]}); {hint}.")

    # --- streaming ------------------------------------------------------------------------
    def _stream_into(self, pieces: list[str], usage: dict[str, Any], messages, prefix, max_new_tokens, stop,
                     temperature, response_format) -> str:
        """Collect a streamed reply into `pieces`; return the finish reason ('stop' when cut at a stop)."""
        finish_box: dict[str, str] = {}
        stream = self._open_stream(messages, prefix, max_new_tokens, stop, temperature, response_format,
                                   usage=usage, finish=finish_box)
        try:
            for piece in stream:
                pieces.append(piece)
                if "." in piece or "\n" in piece or "!" in piece or "?" in piece:
                    if cut_at_repeat("".join(pieces))[1]:
                        return "repeat"  # closing the generator closes the server's stream
        finally:
            stream.close()
        return finish_box.get("reason", "")

    def _open_stream(self, messages, prefix, max_new_tokens, stop, temperature, response_format, *,
                     usage: dict[str, Any] | None = None, finish: dict[str, str] | None = None) -> Iterator[str]:
        finish = finish if finish is not None else {}
        for _ in range(3):
            payload, continued = self._payload(messages, prefix, max_new_tokens, stop, temperature,
                                               response_format, stream=True)
            try:
                yield from self._with_retries_stream(payload, continued, prefix, stop, usage, finish)
                return
            except _Rejected as rejected:
                if not self._learn(rejected, payload):
                    raise self._rejected_error(rejected) from None
        raise LLMError(f"The LLM server at {self.base_url} keeps refusing the request.")

    def _with_retries_stream(self, payload, continued, prefix, stop, usage, finish) -> Iterator[str]:
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            emitted = False
            try:
                for piece in self._stream_once(payload, continued, prefix, stop, usage, finish):
                    emitted = True
                    yield piece
                return
            except _Retryable as exc:
                if emitted:
                    raise LLMError(f"The LLM server at {self.base_url} broke off a streamed answer ({exc}).") from None
                last = exc
                if attempt == self.retries:
                    break
                delay = self.backoff_s * (2 ** attempt)
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, MAX_RETRY_AFTER_S))
                time.sleep(delay)
        raise LLMError(f"The LLM server at {self.base_url} did not answer ({last}) after {self.retries + 1} "
                       f"attempt(s). Check that it is running and serves model {self.name!r} (raise "
                       f"MRREC_LLM_TIMEOUT_S for a slow server), or use MRREC_LLM_BACKEND=local.")

    def _stream_once(self, payload, continued: bool, prefix: str, stop, usage, finish) -> Iterator[str]:
        """One streamed request: parse SSE `data:` lines, cut at stop strings client-side."""
        deadline = time.monotonic() + self.timeout_s
        stops = [s for s in (stop or []) if s]
        hold = max((len(s) for s in stops), default=1) - 1  # text that may be the start of a stop string
        text = ""  # everything received (after echo stripping)
        sent = 0  # how much of `text` has been yielded
        raw = ""
        try:
            with self._client.stream("POST", f"{self.base_url}/chat/completions", json=payload) as response:
                self._check_status(response)
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        raise _Retryable(f"the streamed answer took longer than {self.timeout_s:.0f} s")
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        chunk = json.loads(data)
                    except ValueError:
                        continue
                    if isinstance(chunk, dict) and chunk.get("error"):
                        raise _Retryable(f"server error in stream: {str(chunk['error'])[:160]}")
                    if usage is not None and isinstance(chunk.get("usage"), dict):
                        usage.update(chunk["usage"])
                    for choice in chunk.get("choices") or []:
                        raw += (choice.get("delta") or {}).get("content") or ""
                        if choice.get("finish_reason"):
                            finish["reason"] = choice["finish_reason"]
                    text = raw if continued else strip_echo(prefix, raw, partial=True)
                    cut, stopped = cut_at_stop(text, stops)
                    if stopped:
                        if len(cut) > sent:
                            yield cut[sent:]
                        finish["reason"] = "stop"
                        return  # closing the response ends generation on the server
                    safe = len(text) - hold if hold > 0 else len(text)
                    if safe > sent:
                        yield text[sent:safe]
                        sent = safe
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {self.timeout_s:.0f} s ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        if not continued:
            text = strip_echo(prefix, raw)
        if len(text) > sent:
            yield text[sent:]


def strip_echo(prefix: str, text: str, partial: bool = False) -> str:
    """Drop the start of `text` that repeats the end of `prefix` (servers that start a new turn).

    A model asked to go on after `...<answer>` in a new turn often opens with `<answer>` again; the
    agent adds that tag itself, so the echo would nest it. With `partial`, a reply that so far is
    only a prefix of the tag is held back (returns "") until it can be decided.
    """
    match = _OPEN_TAG.search(prefix or "")
    if not match:
        return text
    tag = match.group(0).strip()
    stripped = text.lstrip()
    if stripped.startswith(tag):
        return stripped[len(tag):]
    if partial and tag.startswith(stripped):
        return ""
    return text
