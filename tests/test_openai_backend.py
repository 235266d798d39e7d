"""The OpenAI-compatible backend against a real server started here: `transformers serve`.

The server is transformers' own OpenAI-compatible server (`transformers serve <dir>`) running the
embedded default model (SmolLM2-135M-Instruct, the checkpoint the app converts into its cache) on
CPU, offline. It needs the `openai` package (transformers' serving extra checks for it; see
requirements.txt). What it does and does not support, as found here:
- `stop` (mapped to stop strings) and streaming (SSE): supported.
- `continue_final_message` / `add_generation_prompt`: refused with 422 "Unexpected fields" —
  the backend must detect that and fall back to sending the prefix as a finished turn.
- `response_format`: accepted and ignored (logged) — the backend forwards it, vLLM enforces it.

A few protocol tests at the end (retry on 503/429, garbage replies, 401) use httpx's
MockTransport, because a real server cannot be made to fail on demand; they test the client's
retry logic only.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from mrrec_chat.llm.base import LLMError
from mrrec_chat.llm.openai_compat import ANSWER_SCHEMA, OpenAICompatLLM, strip_echo
from server_helpers import TransformersServer, free_port


COUNT = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]


class Recorder(httpx.HTTPTransport):
    """The real HTTP transport, recording each request body and response status."""

    def __init__(self):
        super().__init__()
        self.sent: list[dict] = []
        self.statuses: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            self.sent.append(json.loads(request.content or b"{}"))
        except ValueError:
            self.sent.append({})
        response = super().handle_request(request)
        self.statuses.append(response.status_code)
        return response


@pytest.fixture(scope="module")
def serve(cache_dir):
    from transformers.utils.import_utils import is_serve_available

    from mrrec_chat.llm.local import resolve_model_dir

    if not is_serve_available():
        pytest.skip("transformers serve needs fastapi, uvicorn, pydantic and openai (pip install -r requirements.txt)")
    model_dir = resolve_model_dir("smollm2-135m", cache_dir)  # converts the embedded GGUF once if needed
    server = TransformersServer(model_dir).start()
    print(f"\ntransformers serve ready in {server.start_seconds:.1f} s at {server.base_url}")
    yield server
    server.stop()


def make_llm(serve, **kwargs) -> tuple[OpenAICompatLLM, Recorder]:
    recorder = Recorder()
    kwargs.setdefault("timeout_s", 180)
    return OpenAICompatLLM(serve.base_url, serve.model_dir, transport=recorder, **kwargs), recorder


def test_chat_stop_sequences_and_streaming_agree(serve):
    llm, recorder = make_llm(serve)
    llm.warm_up()
    plain = llm.continue_chat(COUNT, max_new_tokens=20, stop=["5"])
    assert plain.text.strip() and "5" not in plain.text
    assert plain.stop_reason == "stop" and plain.completion_tokens > 0 and plain.prompt_tokens > 0
    assert recorder.sent[-1]["stop"] == ["5"]
    # Streaming gives the same greedy text, cut at the same stop string.
    llm.stream = True
    streamed = llm.continue_chat(COUNT, max_new_tokens=20, stop=["5"])
    assert streamed.text == plain.text and streamed.stop_reason == "stop"
    assert recorder.sent[-1]["stream"] is True
    pieces = list(llm.stream_chat([{"role": "user", "content": "Say hello."}], max_new_tokens=8))
    assert len(pieces) >= 2 and "".join(pieces).strip()


def test_prefix_continuation_fallback_and_json_constraint_forwarded(serve):
    llm, recorder = make_llm(serve)
    prefix = "<think>The user likes crime films.</think>\n<answer>"
    messages = [{"role": "system", "content": 'Answer with <answer>{"ideal_item_profile": "...", '
                                               '"useful_memory_ids": []}</answer>.'},
                {"role": "user", "content": "A crime film for tonight."}]
    out = llm.continue_chat(messages, prefix, max_new_tokens=16, stop=["</answer>"])
    # First request asked to continue in place; the server refused those fields (422); the
    # backend learned that and resent the prefix as a finished assistant turn.
    assert recorder.sent[0].get("continue_final_message") is True and recorder.statuses[0] == 422
    assert "continue_final_message" not in recorder.sent[1] and recorder.statuses[1] == 200
    assert llm.supports_continue is False
    assert recorder.sent[1]["messages"][-1] == {"role": "assistant", "content": prefix}
    # The answer step carries the JSON schema; this server accepts (and ignores) it.
    assert recorder.sent[1]["response_format"]["json_schema"]["schema"] == ANSWER_SCHEMA
    assert llm.supports_response_format is not False
    assert not out.text.lstrip().startswith("<answer>") and "</answer>" not in out.text
    # Learned once: the next call goes straight to the fallback.
    llm.continue_chat(messages, "<think>x</think>", max_new_tokens=4)
    assert len(recorder.sent) == 3 and "continue_final_message" not in recorder.sent[2]
    assert "response_format" not in recorder.sent[2]  # only the answer step is constrained


def test_timeout_is_retried_then_a_clear_error(serve):
    llm, recorder = make_llm(serve, timeout_s=0.3, retries=1, backoff_s=0.1)
    started = time.perf_counter()
    with pytest.raises(LLMError, match=r"did not answer \(timed out after 0 s.*after 2 attempt"):
        llm.continue_chat(COUNT, max_new_tokens=32)
    assert len(recorder.sent) == 2 and time.perf_counter() - started < 30


def test_wrong_model_is_refused_without_retries(serve):
    recorder = Recorder()
    llm = OpenAICompatLLM(serve.base_url, "no-such-model", timeout_s=60, retries=3, transport=recorder)
    with pytest.raises(LLMError, match=r"refused the request \(HTTP 400.*pinned"):
        llm.chat([{"role": "user", "content": "hi"}], max_new_tokens=2)
    assert len(recorder.sent) == 1  # a 4xx is not retried


def test_assistant_turn_through_the_server(serve, assistant_factory):
    """A whole MR.Rec turn with the policy on the server (the app's `llm_backend=openai` path)."""
    from mrrec_chat.agent import events as ev
    from mrrec_chat.config import Settings
    from mrrec_chat.llm import build_llm

    settings = Settings.from_env(llm_backend="openai", llm_base_url=serve.base_url, llm_model=serve.model_dir,
                                 llm_timeout_s=180)
    llm = build_llm(settings)
    assert isinstance(llm, OpenAICompatLLM)
    assistant = assistant_factory(llm=llm, max_rounds=1, max_new_tokens=16, answer_max_new_tokens=24)
    started = time.perf_counter()
    events = list(assistant.chat("alice", "A gripping crime film tonight, but I can't stand horror"))
    print(f"\nturn through transformers serve: {time.perf_counter() - started:.1f} s")
    steps = [e for e in events if isinstance(e, ev.ReasoningStep)]
    answer = [e for e in events if isinstance(e, ev.FinalAnswer)][0]
    items = [e for e in events if isinstance(e, ev.ItemsRecommended)][0].items
    assert steps and answer.ideal_item_profile and items
    assert not any("Horror" in r.item.categories for r in items)
    assert any(isinstance(e, ev.MemoryWritten) for e in events)


# --- protocol tests without a server (the client's retry logic) ----------------------------------
def _reply(text: str = "ok", finish: str = "stop") -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1}}


def test_retries_on_503_and_429_honour_retry_after():
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.perf_counter())
        if len(calls) == 1:
            return httpx.Response(503, text="loading")
        if len(calls) == 2:
            return httpx.Response(429, headers={"Retry-After": "0.3"}, text="slow down")
        return httpx.Response(200, json=_reply("fine"))

    llm = OpenAICompatLLM("http://llm.invalid/v1", "m", retries=2, backoff_s=0.01,
                          transport=httpx.MockTransport(handler))
    assert llm.chat([{"role": "user", "content": "hi"}]).text == "fine"
    assert len(calls) == 3 and calls[2] - calls[1] >= 0.3


def test_garbage_replies_and_auth_errors_are_clear():
    garbage = OpenAICompatLLM("http://llm.invalid/v1", "m", retries=1, backoff_s=0.01,
                              transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>")))
    with pytest.raises(LLMError, match="not JSON"):
        garbage.chat([{"role": "user", "content": "hi"}])
    no_choices = OpenAICompatLLM("http://llm.invalid/v1", "m", retries=0,
                                 transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"x": 1})))
    with pytest.raises(LLMError, match="without choices"):
        no_choices.chat([{"role": "user", "content": "hi"}])
    denied = OpenAICompatLLM("http://llm.invalid/v1", "m", retries=3,
                             transport=httpx.MockTransport(lambda r: httpx.Response(401, text="bad key")))
    with pytest.raises(LLMError, match="MRREC_LLM_API_KEY"):
        denied.chat([{"role": "user", "content": "hi"}])
    with pytest.raises(LLMError, match="http:// or https://"):
        OpenAICompatLLM("localhost:8000/v1", "m")


def test_unreachable_server_is_retried_then_clear():
    port = free_port()  # nothing listens there
    llm = OpenAICompatLLM(f"http://127.0.0.1:{port}/v1", "m", timeout_s=2, retries=2, backoff_s=0.01)
    with pytest.raises(LLMError, match=r"did not answer \(ConnectError.*after 3 attempt"):
        llm.chat([{"role": "user", "content": "hi"}])


def test_stream_cuts_at_stop_even_if_the_server_ignores_it():
    def handler(request: httpx.Request) -> httpx.Response:
        chunks = ["1, 2", ", 3, 4", ", 5, 6", ", 7"]
        body = "".join(f"data: {json.dumps({'choices': [{'delta': {'content': c}}]})}\n\n" for c in chunks)
        return httpx.Response(200, text=body + "data: [DONE]\n\n", headers={"content-type": "text/event-stream"})

    llm = OpenAICompatLLM("http://llm.invalid/v1", "m", stream=True, transport=httpx.MockTransport(handler))
    out = llm.continue_chat(COUNT, stop=["5"])
    assert out.text == "1, 2, 3, 4, " and out.stop_reason == "stop"
    assert "".join(llm.stream_chat(COUNT, stop=[", 3"])) == "1, 2"


def test_strip_echo():
    assert strip_echo("x <answer>", ' <answer>{"a": 1}') == '{"a": 1}'
    assert strip_echo("x <answer>", '{"a": 1}') == '{"a": 1}'
    assert strip_echo("x <answer>", "<ans", partial=True) == ""
    assert strip_echo("no tag", "<answer>{}") == "<answer>{}"


@pytest.mark.parametrize("stream", [True, False])
def test_a_looping_reply_is_cut_where_it_repeats_and_a_stream_is_not_read_further(stream):
    loop = "The best date-night movie is a classic. " * 6
    chunks = [loop[k:k + 12] for k in range(0, len(loop), 12)]
    served: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if not stream:
            return httpx.Response(200, json={"choices": [{"message": {"content": loop}, "finish_reason": "length"}]})

        def body():
            for n, c in enumerate(chunks):
                served.append(n)
                yield f"data: {json.dumps({'choices': [{'delta': {'content': c}}]})}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return httpx.Response(200, content=body(), headers={"content-type": "text/event-stream"})

    llm = OpenAICompatLLM("http://llm.invalid/v1", "m", stream=stream, transport=httpx.MockTransport(handler))
    out = llm.continue_chat(COUNT)
    assert out.text == "The best date-night movie is a classic." and out.stop_reason == "repeat"
    if stream:
        assert len(served) < len(chunks)  # stopped reading once the loop showed
