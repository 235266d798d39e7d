"""The chat app's API, driven through gradio_client against the real app process (api names pinned).

Self-contained: the tiny catalog from conftest, a fresh memory store, the real default LLM with
small token budgets (`--max-rounds 1 --max-new-tokens 32 --answer-max-new-tokens 48`). Also the
bad-input cases of issue 5 that do not need a browser: hostile text comes back escaped, a 100 kB
paste, rapid double submits and two sessions of the same user neither crash nor duplicate or lose
memory, Stop really stops the turn (no write-back after it), and account ids (`hf-…`) cannot be
used without signing in as that account.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PINNED = {"/chat", "/recommend", "/recommend_in_chat", "/memory", "/memory_search", "/memory_add", "/memory_edit", "/memory_delete",
          "/feedback", "/forget", "/export"}
FAST = ["--max-rounds", "1", "--max-new-tokens", "32", "--answer-max-new-tokens", "48", "--llm-adapter", "none"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppProcess:
    """`python app.py …` in a subprocess; its output is drained in a thread (a full pipe would
    block the app) and kept, so tests can wait for log lines."""

    def __init__(self, args: list[str], timeout: float = 400):
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
        env.pop("SPACE_ID", None)
        env.pop("OAUTH_CLIENT_ID", None)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, str(REPO_ROOT / "app.py"), *args, "--port", str(self.port)],
                                     cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        try:
            self.wait_for("Running on local URL", timeout)
        except AssertionError:
            self.stop()
            raise

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def log(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not seen in the app output:\n" + "".join(self.lines[-40:]))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def app_args(store: Path, dataset_dir: Path) -> list[str]:
    return ["--dataset", str(dataset_dir), "--memory-dir", str(store), *FAST]


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_dataset_dir):
    process = AppProcess(app_args(tmp_path_factory.mktemp("ui-api") / "store", tiny_dataset_dir))
    yield process
    process.stop()


@pytest.fixture
def client(app):
    from gradio_client import Client

    return Client(app.url, verbose=False)


def memory_of(client, user_id: str) -> list[dict]:
    data = json.loads(client.predict(user_id, api_name="/memory"))
    assert isinstance(data, list), data
    return data


def text_of(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(block.get("text", "") for block in content if isinstance(block, dict))
    return str(content)


def value_of(output):
    """A component's value from an API output (gr.update dicts carry it under "value")."""
    if isinstance(output, dict) and output.get("__type__") == "update":
        return output.get("value")
    return output


def test_every_api_name_is_pinned(client):
    endpoints = set(client.view_api(return_format="dict")["named_endpoints"])
    assert PINNED <= endpoints, PINNED - endpoints


def test_memory_endpoints_round_trip(client):
    user = "new-api-roundtrip"
    hostile = "I love <b>heist</b> films <script>alert('x')</script> **really**"
    added = client.predict(user, hostile, api_name="/memory_add")["entry"]
    assert added["text"] == hostile and added["level"] == "chat"  # stored verbatim, escaped only on display
    assert [e["memory_id"] for e in memory_of(client, user)] == [added["memory_id"]]

    found = client.predict(user, "heist movies", 5, api_name="/memory_search")["results"]
    assert found and found[0]["memory_id"] == added["memory_id"] and "score" in found[0]

    edited = client.predict(user, added["memory_id"], "I love slow-burn mysteries", api_name="/memory_edit")["entry"]
    assert edited["memory_id"] == added["memory_id"] and edited["text"] == "I love slow-burn mysteries"
    assert "error" in client.predict(user, "c:nope:nope", "x", api_name="/memory_edit")
    assert "error" in client.predict(user, added["memory_id"], "   ", api_name="/memory_edit")

    second = client.predict(user, "Watched too many superhero films lately", api_name="/memory_add")["entry"]
    assert client.predict(user, second["memory_id"], api_name="/memory_delete") == {"deleted": second["memory_id"]}
    assert "error" in client.predict(user, second["memory_id"], api_name="/memory_delete")
    assert [e["memory_id"] for e in memory_of(client, user)] == [added["memory_id"]]

    exported = json.loads(client.predict(user, api_name="/export"))
    assert exported["user_id"] == user
    assert {e["memory_id"] for e in exported["entries"]} >= {added["memory_id"]}
    assert any(row.get("action") == "update" for row in exported["history"]), exported["history"][:3]

    counts = client.predict(user, api_name="/forget")["forgotten"]
    assert sum(v for k, v in counts.items() if k != "history") >= 1
    assert memory_of(client, user) == []


def test_feedback_endpoint(client):
    entry = client.predict("alice", "16", "down", api_name="/feedback")["entry"]
    assert entry["level"] == "behavior" and entry["extra"]["feedback"] == "down" and "Toy Story" in entry["text"]
    assert any(e["memory_id"] == entry["memory_id"] for e in memory_of(client, "alice"))
    assert "error" in client.predict("alice", "16", "meh", api_name="/feedback")
    assert "error" in client.predict("alice", "no-such-item", "up", api_name="/feedback")
    assert "error" in client.predict("$ne", "16", "up", api_name="/feedback")


def test_bad_user_ids_and_account_ids_are_refused(client):
    for user in ("$ne", "", "../etc", "a" * 300):
        assert "error" in json.loads(client.predict(user, api_name="/memory"))
        assert "error" in client.predict(user, "text", api_name="/memory_add")
    # hf-… ids belong to signed-in Hugging Face accounts: without that sign-in, nothing is readable.
    assert "error" in json.loads(client.predict("hf-someone", api_name="/memory"))
    assert "error" in client.predict("hf-someone", "x", api_name="/memory_add")
    assert "error" in client.predict("hf-someone", "heist", 3, api_name="/memory_search")
    assert "error" in client.predict("hf-someone", api_name="/forget")
    assert "error" in json.loads(client.predict("hf-someone", api_name="/export"))


def test_chat_streams_trace_and_cards_with_hostile_text_escaped(client):
    message = "Something funny <script>alert(1)</script> <img src=x onerror=alert(2)> **bold** [link](http://x)"
    history, box = client.predict(message, [], 3, 1, True, api_name="/chat")
    assert value_of(box) == ""  # the message box is cleared (and unlocked) at the end
    user = text_of(history[0])
    assert history[0]["role"] == "user"
    assert "<script" not in user and "<img" not in user and "&lt;script&gt;" in user
    titles = [(m.get("metadata") or {}).get("title", "") for m in history]
    assert any("Memory search" in t for t in titles) and any("Reasoning" in t for t in titles)
    assert all((m.get("metadata") or {}).get("status") != "pending" for m in history)
    cards = [text_of(m) for m in history if 'class="mr-card"' in text_of(m)]
    assert cards and cards[0].count('class="mr-card"') >= 1
    # Nothing from the message reaches the HTML of any message unescaped.
    assert not any("<script" in text_of(m) or "<img" in text_of(m) for m in history)


def test_100kb_paste_is_cut_with_a_notice(client):
    paste = ("I like crime films. " * 5200)[:100_000]
    started = time.time()
    history, _ = client.predict(paste, [], 3, 1, False, api_name="/chat")
    assert time.time() - started < 120
    shown = text_of(history[0])
    assert len(shown) < 12_000 and "only the first 4,000 characters are shown here" in shown
    assert any("only the first" in text_of(m) for m in history), [text_of(m)[:80] for m in history]
    assert any('class="mr-card"' in text_of(m) for m in history)


def test_stop_really_stops_the_turn(app, client):
    """Cancel a streamed turn after its first update: the loop is closed (logged) and no write-back follows."""
    job = client.submit("I can't stand westerns. A sci-fi film like The Matrix please", [], 3, 1, True,
                        api_name="/chat")
    deadline = time.time() + 120
    while time.time() < deadline and len(job.outputs()) < 2:
        time.sleep(0.1)
    assert len(job.outputs()) >= 2, "the turn never streamed"
    try:
        job.cancel()
    except httpx.TimeoutException:
        # The server answers /cancel only once the model step in progress has ended (generation
        # holds the model lock); gradio_client gives up after 5 s, the server still cancels.
        pass
    line = app.wait_for("stopped (Stop or tab closed)", 90)
    user = line.split("chat turn for ")[1].split()[0]
    time.sleep(1.0)
    chat_entries = [e for e in memory_of(client, user) if e["level"] == "chat"]
    assert chat_entries == [], "the write-back ran although the turn was stopped"


def test_rapid_double_submit_does_not_duplicate_memory(client):
    user = "new-api-double"
    message = "I can't stand horror. Something funny for tonight"
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: client.predict(user, message, api_name="/recommend"), range(2)))
    assert all(r.get("items") for r in results), results
    horror = [e for e in memory_of(client, user) if e["level"] == "chat" and "Horror" in e["text"]]
    assert len(horror) == 1, horror  # the second submit reinforced the first, did not duplicate it
    # An empty submit is a no-op, not an error.
    history, box = client.predict("   ", [], 3, 1, True, api_name="/chat")
    assert history == [] and value_of(box) == ""


def test_recommend_follow_ups_with_the_chat_passed_along(client):
    """/recommend is stateless; /recommend_in_chat, given the chat's earlier requests and the items
    each returned, answers "something else" as the browser does: the same request, none of those films."""
    user = "new-api-follow-up"
    first = client.predict(user, "a crime film", api_name="/recommend")
    ids = [i["item_id"] for i in first["items"]]
    assert ids, first
    again = client.predict(user, "something else", ["a crime film"], [ids], api_name="/recommend_in_chat")
    assert again["items"] and not {i["item_id"] for i in again["items"]} & set(ids), again
    assert all("Crime" in i["categories"] for i in again["items"][:3]), again
    bad = client.predict(user, "more", "not a list", None, api_name="/recommend_in_chat")
    assert "earlier must be a list" in bad.get("error", ""), bad


def test_two_sessions_of_the_same_user(app):
    """Two clients (two sessions, like two tabs) writing one user's memory at once: nothing lost."""
    from gradio_client import Client

    user = "new-api-twotabs"
    tabs = [Client(app.url, verbose=False), Client(app.url, verbose=False)]
    # Plain notes with no preference in them (two statements on one subject would rightly
    # supersede each other; that is the write-back's rule, not a loss).
    texts = [f"Note {n}: my local cinema is the {place}" for n, place in enumerate(
        ["Odeon", "Rex", "Plaza", "Savoy", "Regal", "Lux"])]

    def add(n: int) -> dict:
        return tabs[n % 2].predict(user, texts[n], api_name="/memory_add")

    with ThreadPoolExecutor(4) as pool:
        added = list(pool.map(add, range(len(texts))))
    assert all("entry" in a for a in added), added
    seen_by = [{e["text"] for e in memory_of(tab, user)} for tab in tabs]
    assert seen_by[0] == seen_by[1]
    assert set(texts) <= seen_by[0]


# --- in-process checks (no app process, no model) ---------------------------------------------------


def test_readme_front_matter_matches_the_installed_gradio():
    import gradio

    head = (REPO_ROOT / "README.md").read_text().split("---")[1]
    meta = dict(line.split(":", 1) for line in head.strip().splitlines() if ":" in line)
    meta = {k.strip(): v.strip() for k, v in meta.items()}
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and meta["license"]
    assert meta["sdk_version"] == gradio.__version__
    assert 0 < len(meta["short_description"]) <= 60  # the Hub's limit


def test_identity_rules():
    from mrrec_chat.memory.schema import InvalidUserId
    from mrrec_chat.ui.identity import NotYourUser, authorize, oauth_user_id, resolve_user

    assert oauth_user_id("Alice Smith") == "hf-Alice-Smith"
    assert oauth_user_id("bob_42") == "hf-bob_42"
    with pytest.raises(InvalidUserId):
        oauth_user_id("!!!")
    new = lambda: "new-000000000000"  # noqa: E731
    assert resolve_user("", None, new) == ("new-000000000000", "new")
    assert resolve_user("new-abc", None, new) == ("new-abc", "returning")
    assert resolve_user("$ne", None, new) == ("new-000000000000", "new")
    # A browser-stored account id is not trusted without that account's sign-in...
    assert resolve_user("hf-alice", None, new) == ("new-000000000000", "new")
    # ...and a signed-in account always wins over what the browser stored.
    assert resolve_user("new-abc", "alice", new) == ("hf-alice", "signed-in")
    assert authorize("hf-alice", "alice") == "hf-alice"
    with pytest.raises(NotYourUser):
        authorize("hf-alice", "mallory")
    with pytest.raises(NotYourUser):
        authorize("hf-alice", None)
    with pytest.raises(InvalidUserId):
        authorize("a b", None)


def test_rendering_escapes_everything_shown(tiny_dataset):
    from mrrec_chat.agent import events as ev
    from mrrec_chat.memory.schema import MemoryEntry, RetrievedMemory
    from mrrec_chat.ui import render

    evil = "<script>alert(1)</script> <img src=x onerror=alert(2)> **b** [l](javascript:x) $x$\n\n<div>"
    entry = MemoryEntry("c:t:u:1", "chat", evil, "u")
    view = render.TurnView()
    view.apply(ev.ToolCall(1, [evil]))
    view.apply(ev.MemoriesRetrieved(1, evil, [RetrievedMemory(entry, 0.5)], 0.01))
    view.apply(ev.ReasoningStep(1, evil, 1.0))
    item = tiny_dataset.items["1"]
    view.apply(ev.ItemsRecommended([ev.Recommendation(item, 0.9, evil, ["c:t:u:1", "<b>"])]))
    view.finish()
    for msg in view.messages:
        text = msg["content"] + (msg.get("metadata") or {}).get("title", "")
        assert "<script" not in text and "<img" not in text and "<b>" not in text and "<div>" not in text
    root, tool, retrieved = view.messages[:3]
    assert root["metadata"]["id"] == "trace" and tool["metadata"]["parent_id"] == "trace"  # all inside the trace
    assert tool["metadata"]["status"] == "done" and retrieved["metadata"]["parent_id"] == tool["metadata"]["id"]
    assert "chat-learned" in retrieved["content"] and "c:t:u:1" in retrieved["content"]
    cards = view.messages[-1]["content"]
    assert cards.count('class="mr-card"') == 1 and "\n" not in cards  # one HTML block, no markdown inside
    assert "Heat" in cards and "1995" in cards and "Crime" in cards and "&lt;script&gt;" in cards
    assert render.user_message("x" * 100_000)["content"].endswith("only the first 4,000 characters are shown here)_")
    assert "<" not in render.escape("<b>") and render.escape("**a**") == "\\*\\*a\\*\\*"
    stopped = render.stop_history([{"role": "assistant", "content": "…", "metadata": {"id": "working",
                                                                                     "status": "pending"}},
                                   render.message("q", "🔎", "pending")])
    assert [m["metadata"].get("status") for m in stopped[:-1]] == ["done"]
    assert "Stopped" in stopped[-1]["content"]


def test_gpu_shim_is_a_no_op_without_spaces(monkeypatch):
    import importlib
    import types

    from mrrec_chat.ui import compat

    def f(x):
        return x + 1

    if not compat.HAS_SPACES:
        assert compat.gpu(f) is f and compat.gpu(duration=60)(f) is f
    fake = types.ModuleType("spaces")
    fake.GPU = lambda fn=None, **kw: "decorated"
    monkeypatch.setitem(sys.modules, "spaces", fake)
    try:
        assert importlib.reload(compat).gpu(f) == "decorated"
    finally:
        monkeypatch.delitem(sys.modules, "spaces")
        importlib.reload(compat)


def test_app_builds_with_separate_queues_and_oauth(assistant_factory, monkeypatch):
    """Chat and memory operations are in different concurrency groups; on a Space with OAuth the
    sign-in button is there; the app builds without a model (memory-only mode)."""
    import importlib.util

    import gradio as gr

    from mrrec_chat.ui.app import build_app, queue_plan

    monkeypatch.setenv("OAUTH_CLIENT_ID", "test-client")
    assistant = assistant_factory(llm_backend="none")
    demo = build_app(assistant)
    fns = {fn.api_name: fn for fn in demo.fns.values() if fn.api_name}
    assert fns["chat"].concurrency_id == fns["recommend"].concurrency_id == fns["recommend_in_chat"].concurrency_id \
        == "chat"
    for name in ("memory", "memory_search", "memory_add", "memory_edit", "memory_delete", "feedback", "forget",
                 "export"):
        assert fns[name].concurrency_id == "memory", name
    assert fns["chat"].concurrency_limit == queue_plan(assistant)["chat"] == 8  # no local model: 8
    has_extras = all(importlib.util.find_spec(n) for n in ("itsdangerous", "authlib"))
    # The sign-in button only where Gradio's OAuth extras are installed (they are on Spaces).
    assert any(isinstance(block, gr.LoginButton) for block in demo.blocks.values()) == bool(has_extras)


def test_a_fallback_profile_is_explained_in_the_trace_not_as_a_chat_notice():
    from mrrec_chat.agent import events as ev
    from mrrec_chat.ui import render

    view = render.TurnView(show_trace=True)
    view.apply(ev.FinalAnswer("A tense crime film", [], fallback=True))
    view.finish()
    step = next(m for m in view.messages if "Ideal item profile" in (m.get("metadata") or {}).get("title", ""))
    assert step["metadata"]["parent_id"] == "trace" and "deterministic fallback" in step["metadata"]["title"]
    assert step["content"].startswith("The model's answer was unusable")
