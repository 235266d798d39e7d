"""Bad inputs: the corpus in tests/data/bad_inputs.jsonl through the app, the service, the memory
API and the parser. Zero crashes; every case gets a clear message or a sane answer.

- Chat messages (empty, whitespace, zero-width, RTL, 100 kB / 1 MB, invalid UTF-8, HTML, JS,
  markdown images with remote URLs, prompt injection, ...) go through the running app's
  `/recommend` (memory-only app shared with the isolation suite). Invalid UTF-8 cannot travel in
  JSON: it arrives as lone surrogates (what a lenient decoder makes of it) through gradio_client,
  and as raw bytes in a hand-made HTTP request; in-process the service gets the raw `bytes`.
- Memory texts go through `assistant.memory.add` / `search` and the app's `/memory_add`.
- Malformed model outputs (truncated JSON, nested braces, endless repetition, ...) go through
  `parse_step` and through whole agent turns with a scripted policy that emits exactly that text
  (the point is the text, so the model is replaced by the corpus here).

Expectations per case are in the corpus (`expect`): notice (a clear message, no items), answer
(real catalog items with reasons), answer_truncated (an answer plus the truncation notice),
refused (a clear error), stored, fallback (the deterministic profile replaced the output), any
(an answer or a fallback, never a crash).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from mrrec_chat.llm.base import Completion, LLMBackend
from server_helpers import shared_app


CORPUS = Path(__file__).parent / "data" / "bad_inputs.jsonl"
TALLY: Counter = Counter()
SLOWEST: dict[str, float] = {}


def load_cases() -> list[dict]:
    cases = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        if case["kind"] == "comment":
            continue
        if "bytes_hex" in case:
            case["value"] = bytes.fromhex(case["bytes_hex"])
        elif "parts" in case:
            case["value"] = "".join(text * times for text, times in case["parts"])
        else:
            text = case["text"]
            if case.get("repeat_to"):
                text = (text * (case["repeat_to"] // max(1, len(text)) + 1))[:case["repeat_to"]]
            case["value"] = text
        cases.append(case)
    return cases


CASES = load_cases()
MESSAGES = [c for c in CASES if c["kind"] == "message"]
MEMORY_TEXTS = [c for c in CASES if c["kind"] == "memory_text"]
OUTPUTS = [c for c in CASES if c["kind"] == "model_output"]


def as_wire_text(value: str | bytes) -> str:
    """What a browser sends for invalid UTF-8: its decoder replaces bad bytes with U+FFFD."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def call_raw(base_url: str, api_name: str, body: bytes) -> tuple[int, str]:
    """POST a hand-made body to Gradio's call API; (status, final SSE event text or the error body)."""
    response = httpx.post(f"{base_url}gradio_api/call/{api_name}", content=body,
                          headers={"content-type": "application/json"}, timeout=60)
    if response.status_code != 200:
        return response.status_code, response.text
    event_id = response.json()["event_id"]
    with httpx.stream("GET", f"{base_url}gradio_api/call/{api_name}/{event_id}", timeout=120) as stream:
        text = "".join(stream.iter_text())
    return 200, text


def test_corpus_is_large_and_varied():
    assert len(CASES) >= 100
    assert len({c["id"] for c in CASES}) == len(CASES)
    kinds = Counter(c["kind"] for c in CASES)
    assert kinds["message"] >= 50 and kinds["model_output"] >= 25 and kinds["memory_text"] >= 10
    sizes = [len(c["value"]) for c in MESSAGES]
    assert max(sizes) >= 1_000_000 and any(99_000 <= s <= 101_000 for s in sizes)
    assert any(isinstance(c["value"], bytes) for c in MESSAGES)


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print("\nbad-input suite:")
    for channel in sorted({k[0] for k in TALLY}):
        print(f"  {channel:16s} cases {TALLY[(channel, 'cases')]:4d}  clear messages {TALLY[(channel, 'message')]:4d}  "
              f"sane answers {TALLY[(channel, 'answer')]:4d}  crashes {TALLY[(channel, 'crash')]}")
    if SLOWEST:
        worst = max(SLOWEST, key=SLOWEST.get)
        print(f"  slowest case: {worst} {SLOWEST[worst]:.2f} s")


def check_result(case: dict, result: dict, catalog_ids: set[str], channel: str, problems: list[str]) -> None:
    """A /recommend-shaped result: a clear message or a sane answer, as the case expects."""
    TALLY[(channel, "cases")] += 1
    items = result.get("items") or []
    notices = [n for n in result.get("notices") or [] if isinstance(n, str) and n.strip()]
    expect = case["expect"]
    if result.get("error"):
        problems.append(f"{case['id']}: error {result['error']!r}")
        return
    if expect == "any" and not items and notices:  # for a message, a clear message is fine too
        TALLY[(channel, "message")] += 1
        return
    if expect == "notice":
        if items or not notices:
            problems.append(f"{case['id']}: expected a clear message, got items={len(items)} notices={notices}")
            return
        TALLY[(channel, "message")] += 1
        return
    sane = (1 <= len(items) <= 10 and all(i.get("item_id") in catalog_ids and i.get("title") and i.get("reason")
                                          for i in items)
            and isinstance(result.get("profile"), str) and len(result["profile"]) <= 5000)
    if not sane:
        problems.append(f"{case['id']}: not a sane answer: {json.dumps(result)[:300]}")
        return
    if expect == "answer_truncated" and not any("only the first" in n for n in notices):
        problems.append(f"{case['id']}: no truncation notice: {notices}")
        return
    TALLY[(channel, "answer")] += 1


# --- through the running app --------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(tiny_dataset_dir):
    return shared_app("embedded", tiny_dataset_dir)


def test_messages_through_the_app(app, tiny_dataset):
    client = app.client()
    user = f"bad-{uuid.uuid4().hex[:8]}"
    catalog = set(tiny_dataset.items)
    problems: list[str] = []
    for case in MESSAGES:
        if case.get("service_only"):
            continue
        started = time.perf_counter()
        try:
            result = client.predict(user, as_wire_text(case["value"]), api_name="/recommend")
        except Exception as exc:  # noqa: BLE001
            TALLY[("app /recommend", "cases")] += 1
            TALLY[("app /recommend", "crash")] += 1
            problems.append(f"{case['id']}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        SLOWEST[f"app:{case['id']}"] = time.perf_counter() - started
        check_result(case, result, catalog, "app /recommend", problems)
    assert app.proc.poll() is None, "the app died:\n" + app.pump.text()[-3000:]
    assert not problems, "\n".join(problems[:20])
    # The memory is still readable afterwards (write-backs of all these turns did not break it).
    memory = json.loads(client.predict(user, api_name="/memory"))
    assert isinstance(memory, list) and all(e["user_id"] == user for e in memory)


def test_raw_invalid_utf8_bodies_through_the_app(app, tiny_dataset):
    """Invalid UTF-8 in the HTTP body itself (refused by the server, never a 5xx), and lone
    surrogates as JSON escapes (valid JSON that decodes to unencodable text: answered)."""
    user = f"raw-{uuid.uuid4().hex[:8]}"
    problems: list[str] = []
    for case in [c for c in MESSAGES if isinstance(c["value"], bytes) or c.get("service_only")]:
        value = case["value"] if isinstance(case["value"], bytes) else case["value"].encode("utf-8", "surrogatepass")
        status, text = call_raw(app.url, "recommend", b'{"data": ["' + user.encode() + b'", "' + value + b'"]}')
        TALLY[("app raw bytes", "cases")] += 1
        TALLY[("app raw bytes", "message" if status < 500 else "crash")] += 1
        if status >= 500:
            problems.append(f"{case['id']} raw: HTTP {status} {text[:200]}")
        escaped = json.dumps({"data": [user, value.decode("utf-8", "surrogateescape")]}, ensure_ascii=True)
        status, text = call_raw(app.url, "recommend", escaped.encode("ascii"))
        if status != 200 or "event: complete" not in text:
            TALLY[("app escaped", "cases")] += 1
            TALLY[("app escaped", "crash")] += 1
            problems.append(f"{case['id']} escaped: HTTP {status} {text[-300:]}")
            continue
        result = json.loads(text.split("event: complete", 1)[1].split("data:", 1)[1].strip().splitlines()[0])[0]
        check_result(case, result, set(tiny_dataset.items), "app escaped", problems)
    assert app.proc.poll() is None, "the app died:\n" + app.pump.text()[-3000:]
    assert app.client().predict(user, "a comedy", api_name="/recommend")["items"]  # still serving
    assert not problems, "\n".join(problems)


def test_memory_texts_through_the_app(app):
    client = app.client()
    user = f"memtext-{uuid.uuid4().hex[:8]}"
    problems = []
    for case in MEMORY_TEXTS:
        if case.get("service_only"):
            continue
        TALLY[("app /memory_add", "cases")] += 1
        result = client.predict(user, as_wire_text(case["value"]), api_name="/memory_add")
        expect = case["expect"]
        if isinstance(case["value"], bytes):  # arrives as U+FFFD text: storing it is as fine as refusing
            expect = "refused" if "error" in result else "stored"
        if expect == "refused":
            ok = isinstance(result.get("error"), str) and 10 < len(result["error"]) < 400
            TALLY[("app /memory_add", "message" if ok else "crash")] += 1
        else:
            ok = "entry" in result and result["entry"]["user_id"] == user
            TALLY[("app /memory_add", "answer" if ok else "crash")] += 1
        if not ok:
            problems.append(f"{case['id']}: {json.dumps(result)[:200]}")
    assert not problems, "\n".join(problems)


# --- in-process: service and memory API -------------------------------------------------------
@pytest.fixture(scope="module")
def assistant(tmp_path_factory, tiny_dataset, embedder):
    from mrrec_chat.config import Settings
    from mrrec_chat.service import Assistant

    settings = Settings.from_env(memory_dir=str(tmp_path_factory.mktemp("bad") / "store"), llm_backend="none")
    made = Assistant(settings, dataset=tiny_dataset, embedder=embedder, load_llm=False).start()
    yield made
    made.close()


def run_turn(assistant, user: str, message) -> dict:
    """One service turn, shaped like the app's /recommend result."""
    from mrrec_chat.agent import events as ev

    result: dict = {"items": [], "notices": []}
    for event in assistant.chat(user, message):
        if isinstance(event, ev.FinalAnswer):
            result.update(profile=event.ideal_item_profile, memory_ids=event.useful_memory_ids,
                          fallback=event.fallback)
        elif isinstance(event, ev.ItemsRecommended):
            result["items"] = [{"item_id": r.item.item_id, "title": r.item.display_title, "reason": r.reason,
                                "memory_ids": r.memory_ids} for r in event.items]
        elif isinstance(event, ev.Notice):
            result["notices"].append(event.text)
    return result


def test_messages_the_wire_cannot_carry_through_the_service(assistant, tiny_dataset):
    """Raw bytes and lone surrogates, straight into Assistant.chat."""
    problems: list[str] = []
    catalog = set(tiny_dataset.items)
    for case in MESSAGES:
        if not (case.get("service_only") or isinstance(case["value"], bytes)):
            continue
        try:
            result = run_turn(assistant, "svc-user", case["value"])
        except Exception as exc:  # noqa: BLE001
            TALLY[("service chat", "cases")] += 1
            TALLY[("service chat", "crash")] += 1
            problems.append(f"{case['id']}: {type(exc).__name__}: {exc}")
            continue
        check_result(case, result, catalog, "service chat", problems)
    assert not problems, "\n".join(problems)


def test_memory_texts_through_the_memory_api(assistant):
    problems: list[str] = []
    user = "memapi-user"
    for case in MEMORY_TEXTS:
        TALLY[("memory API", "cases")] += 1
        try:
            entry = assistant.memory.add(user, case["value"])
        except ValueError as exc:
            ok = case["expect"] == "refused" and 10 < len(str(exc)) < 400
            TALLY[("memory API", "message" if ok else "crash")] += 1
            if not ok:
                problems.append(f"{case['id']}: refused: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001
            TALLY[("memory API", "crash")] += 1
            problems.append(f"{case['id']}: {type(exc).__name__}: {exc}")
            continue
        ok = case["expect"] == "stored" and entry.user_id == user and entry.text
        TALLY[("memory API", "answer" if ok else "crash")] += 1
        if not ok:
            problems.append(f"{case['id']}: stored although expected {case['expect']}")
            continue
        # A stored text can be searched for, listed and exported.
        assistant.memory.search(user, entry.text[:200], k=3)
    json.loads(assistant.memory.export_json(user))
    assert not problems, "\n".join(problems)


# --- malformed model outputs -------------------------------------------------------------------
class ScriptedPolicy(LLMBackend):
    """Emits one fixed text for every call: the corpus case under test."""

    name = "scripted"

    def __init__(self, text: str):
        self.text = text
        self.calls = 0

    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None, temperature=0.0):
        self.calls += 1
        return Completion(text=self.text, prompt_tokens=10, completion_tokens=max_new_tokens, stop_reason="length")


def test_malformed_model_outputs_parse_and_never_crash_a_turn(assistant, tiny_dataset):
    from mrrec_chat.agent import events as ev
    from mrrec_chat.agent.parser import MAX_PROFILE_CHARS, MAX_QUERY_CHARS, MAX_THOUGHT_CHARS, parse_step

    problems: list[str] = []
    catalog = set(tiny_dataset.items)
    assistant.ensure_user("alice")
    options = assistant.options(max_rounds=2)
    for case in OUTPUTS:
        text = case["value"]
        TALLY[("parser", "cases")] += 1
        started = time.perf_counter()
        try:
            step = parse_step(text)
        except Exception as exc:  # noqa: BLE001
            TALLY[("parser", "crash")] += 1
            problems.append(f"{case['id']}: parse_step raised {type(exc).__name__}: {exc}")
            continue
        bounded = (len(step.thought) <= MAX_THOUGHT_CHARS and len(step.queries) <= 3
                   and all(len(q) <= MAX_QUERY_CHARS for q in step.queries)
                   and (step.answer is None or len(step.answer.ideal_item_profile) <= MAX_PROFILE_CHARS))
        TALLY[("parser", "answer" if step.action == "answer" else "message")] += 1
        if not bounded:
            problems.append(f"{case['id']}: unbounded parse result")
        # A whole turn with a policy that emits this text.
        TALLY[("agent turn", "cases")] += 1
        assistant.agent.llm = ScriptedPolicy(text)
        try:
            events = list(assistant.chat("alice", "A tense crime film for tonight", options=options,
                                         write_back=False))
        except Exception as exc:  # noqa: BLE001
            TALLY[("agent turn", "crash")] += 1
            problems.append(f"{case['id']}: turn raised {type(exc).__name__}: {exc}")
            continue
        finally:
            assistant.agent.llm = None
        SLOWEST[f"turn:{case['id']}"] = time.perf_counter() - started
        answer = [e for e in events if isinstance(e, ev.FinalAnswer)]
        items = [e for e in events if isinstance(e, ev.ItemsRecommended)]
        retrieved = {m.memory_id for e in events if isinstance(e, ev.MemoriesRetrieved) for m in e.memories}
        shown = [e.thought for e in events if isinstance(e, ev.ReasoningStep)]
        if not answer or not items or not items[0].items:
            problems.append(f"{case['id']}: no answer or no items")
            continue
        a = answer[0]
        if not set(a.useful_memory_ids) <= retrieved:
            problems.append(f"{case['id']}: cites ids it did not retrieve: {set(a.useful_memory_ids) - retrieved}")
        if any(r.item.item_id not in catalog for r in items[0].items):
            problems.append(f"{case['id']}: items outside the catalog")
        if any(len(t) > 2000 for t in shown):
            problems.append(f"{case['id']}: raw model text shown unbounded")
        if case["expect"] == "fallback" and not a.fallback:
            problems.append(f"{case['id']}: expected the deterministic fallback")
        if any("<script" in t.lower() for t in shown):
            problems.append(f"{case['id']}: script tag passed through to the shown trace")
        TALLY[("agent turn", "answer")] += 1
        seconds = SLOWEST[f"turn:{case['id']}"]
        if seconds > 20:
            problems.append(f"{case['id']}: took {seconds:.1f} s")
    assert not problems, "\n".join(problems[:20])
