"""Any OpenAI-compatible server as the policy LLM (vLLM in production, `transformers serve` here).

The trajectory is one assistant turn continued after each tool call. Servers that support
continuing a final assistant message (vLLM: `continue_final_message`) get exactly the local
format; the request also works on servers that ignore those extra fields, since the prefix is
sent as the last assistant message. Timeouts and retries end in an LLMError that says what to do.
"""

from __future__ import annotations

import time

import httpx

from mrrec_chat.llm.base import Completion, LLMBackend, LLMError, cut_at_stop


class OpenAICompatLLM(LLMBackend):
    def __init__(self, base_url: str, model: str, api_key: str = "", timeout_s: float = 60.0, retries: int = 2):
        if not base_url:
            raise LLMError("llm_backend=openai needs MRREC_LLM_BASE_URL, e.g. http://localhost:8000/v1.")
        self.base_url = base_url.rstrip("/")
        self.name = model
        self.retries = retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)

    @classmethod
    def from_settings(cls, settings) -> "OpenAICompatLLM":
        return cls(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout_s)

    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None, temperature=0.0):
        payload: dict = {"model": self.name, "messages": list(messages), "max_tokens": max_new_tokens,
                         "temperature": temperature}
        if stop:
            payload["stop"] = list(stop)[:4]  # the OpenAI API accepts at most four
        if assistant_prefix:
            payload["messages"] = payload["messages"] + [{"role": "assistant", "content": assistant_prefix}]
            payload.update(continue_final_message=True, add_generation_prompt=False)
        started = time.perf_counter()
        last_error: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post(f"{self.base_url}/chat/completions", json=payload)
                if response.status_code >= 500 or response.status_code == 429:
                    raise httpx.HTTPStatusError(f"server said {response.status_code}", request=response.request,
                                                response=response)
                response.raise_for_status()
                body = response.json()
                break
            except (httpx.HTTPError, ValueError) as exc:
                last_error = exc
                if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code < 500 \
                        and exc.response.status_code != 429:
                    break
                time.sleep(min(2 ** attempt * 0.5, 4))
        else:
            body = None
        if body is None or "choices" not in body:
            raise LLMError(f"The LLM server at {self.base_url} did not answer ({last_error}). Check that it is "
                           f"running and serves model {self.name!r}, or use MRREC_LLM_BACKEND=local.")
        text = body["choices"][0]["message"].get("content") or ""
        text, stopped = cut_at_stop(text, stop)
        usage = body.get("usage") or {}
        finish = body["choices"][0].get("finish_reason") or ""
        return Completion(text=text, prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)),
                          seconds=time.perf_counter() - started,
                          stop_reason="stop" if stopped or finish == "stop" else finish)
