"""Acceptance: a scripted conversation through the real app (gradio_client, `/recommend`).

Turn 1 states a dislike; turns 2-3 recommend none of it; turn 4 reverses it; turn 5 may (and,
for a scary request, does) recommend it. The app is then stopped, and a new Assistant on the same
store reads the audit history (the app exposes no history endpoint of its own here); then the app
is restarted on the same store — this time with the real default model (SmolLM2-135M) — and
everything is still there and a sixth turn works.

Turns 1-5 run with `--llm-backend none` (deterministic profile from request + memory): what is
under test is memory and grounding, and the model's free text does not decide what is excluded.
Turn 6 runs the real model so the same flow is covered with it too.
"""

from __future__ import annotations

from test_app import free_port, launch, wait_ready

USER = "e2e-user-1"


class App:
    def __init__(self, dataset_dir, store, extra: list[str]):
        self.port = free_port()
        self.args = ["--dataset", str(dataset_dir), "--memory-dir", str(store), "--port", str(self.port), *extra]

    def __enter__(self):
        from gradio_client import Client

        self.proc = launch(self.args)
        wait_ready(self.proc)
        self.client = Client(f"http://127.0.0.1:{self.port}/", verbose=False)
        return self

    def turn(self, message: str) -> dict:
        result = self.client.predict(USER, message, api_name="/recommend")
        assert "error" not in result and result["items"], result
        return result

    def memory(self) -> list[dict]:
        import json

        return json.loads(self.client.predict(USER, api_name="/memory"))

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def horror(result: dict) -> list[str]:
    return [i["title"] for i in result["items"] if "Horror" in i["categories"]]


def open_store(store, dataset, embedder):
    from mrrec_chat.config import Settings
    from mrrec_chat.service import Assistant

    return Assistant(Settings.from_env(memory_dir=str(store)), dataset=dataset, embedder=embedder,
                     load_llm=False).start()


def test_dislike_reversal_history_and_restart(tmp_path, tiny_dataset_dir, tiny_dataset, embedder):
    store = tmp_path / "store"
    with App(tiny_dataset_dir, store, ["--llm-backend", "none"]) as app:
        t1 = app.turn("I can't stand horror. Something gripping for tonight?")
        assert not horror(t1) and t1["memory_written"]["added"]
        dislike_id = t1["memory_written"]["added"][0]
        for message in ("Something scary with ghosts", "Maybe a classic from the 80s?"):
            assert not horror(app.turn(message)), message
        t4 = app.turn("Actually I've come to love horror movies")
        assert t4["memory_written"]["superseded"] == [dislike_id]
        like_id = t4["memory_written"]["added"][0]
        t5 = app.turn("A scary movie for tonight please")
        assert horror(t5), t5["items"]
        assert all(dislike_id not in i["memory_ids"] for i in t5["items"])
        current = app.memory()
        ids = {e["memory_id"] for e in current}
        assert like_id in ids and dislike_id not in ids

    assistant = open_store(store, tiny_dataset, embedder)
    try:
        rows = assistant.memory.history(USER)[::-1]  # oldest first
        actions = [(r["action"], r["memory_id"]) for r in rows]
        assert actions.index(("add", dislike_id)) < actions.index(("supersede", dislike_id)) \
            < actions.index(("add", like_id))
        supersede = rows[actions.index(("supersede", dislike_id))]
        assert supersede["detail"]["superseded_by"] == like_id and supersede["source"] == "chat"
        old = {e.memory_id: e for e in assistant.memory.list(USER, "chat", include_history=True)}[dislike_id]
        assert old.status == "superseded" and old.extra["superseded_by"] == like_id
        assert dislike_id not in {m.memory_id for m in assistant.memory.search(USER, "horror movies", k=20)}
        history_before = len(rows)
    finally:
        assistant.close()

    # Restart on the same store, with the real default model.
    with App(tiny_dataset_dir, store, ["--max-rounds", "2", "--max-new-tokens", "48",
                                       "--answer-max-new-tokens", "64", "--llm-adapter", "none"]) as app:
        assert {e["memory_id"] for e in app.memory()} == ids
        t6 = app.turn("Any good horror film you'd recommend?")
        assert all(i["item_id"] in tiny_dataset.items for i in t6["items"])
        assert all(dislike_id not in i["memory_ids"] for i in t6["items"])

    assistant = open_store(store, tiny_dataset, embedder)
    try:
        rows = assistant.memory.history(USER)[::-1]
        assert len(rows) >= history_before
        assert [(r["action"], r["memory_id"]) for r in rows[:history_before]] == actions
        assert assistant.store.get(USER, dislike_id).status == "superseded"
    finally:
        assistant.close()
