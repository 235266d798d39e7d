"""Concurrency: 8 users chatting at once through the running app (gradio_client), bounded turns.

Each user has their own gradio_client session and states a preference no other user states (a
different loved film and a different disliked genre). Checks: zero errors; every answer is for
the user who asked (its `user_id`, and every cited memory id is that user's or global); every
user's memory holds their own statements and none of the others'; every write-back that a turn
acknowledged (`memory_written.added`) is in the store afterwards. Prints throughput and latency
percentiles.

The app runs the real default LLM (SmolLM2-135M, CPU) with small budgets: `--max-rounds 1
--max-new-tokens 24 --answer-max-new-tokens 40`; the in-process model generates one step at a time
(a lock), so turns queue behind each other and the latency percentiles show it. Set
MRREC_TEST_CONCURRENCY_LLM=none for the memory-only mode (no model).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import uuid

import pytest

from mrrec_chat.memory.schema import id_segment
from server_helpers import AppProcess, app_args


USERS = 8
TURNS = int(os.environ.get("MRREC_TEST_TURNS", "2"))
LLM = os.environ.get("MRREC_TEST_CONCURRENCY_LLM", "local")
# (loved film, disliked genre) per user: all different, all in the tiny catalog.
PREFERENCES = [("Heat", "Horror"), ("Toy Story", "War"), ("Fargo", "Western"), ("The Matrix", "Romance"),
               ("Notting Hill", "Sci-Fi"), ("Alien", "Animation"), ("Unforgiven", "Musical"),
               ("Airplane!", "Film-Noir")]


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_dataset_dir):
    store = tmp_path_factory.mktemp("concurrency") / "store"
    proc = AppProcess(app_args(tiny_dataset_dir, store, llm=LLM)).start()
    print(f"\napp ({LLM} LLM) ready in {proc.start_seconds:.1f} s")
    yield proc
    proc.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def test_eight_users_at_once(app):
    from gradio_client import Client

    suffix = uuid.uuid4().hex[:6]
    users = [f"conc{i}-{suffix}" for i in range(USERS)]
    latencies: list[float] = []
    errors: list[str] = []
    results: dict[str, list[dict]] = {u: [] for u in users}
    lock = threading.Lock()
    barrier = threading.Barrier(USERS)

    def chat(index: int) -> None:
        user = users[index]
        film, genre = PREFERENCES[index]
        try:
            client = Client(app.url, verbose=False)
            barrier.wait(timeout=120)  # everyone starts at once
            for turn in range(TURNS):
                message = (f"I loved {film}, and I can't stand {genre} movies. Something for tonight?" if turn == 0
                           else "Anything else you would suggest?")
                started = time.perf_counter()
                result = client.predict(user, message, api_name="/recommend")
                with lock:
                    latencies.append(time.perf_counter() - started)
                    results[user].append(result)
        except Exception as exc:  # noqa: BLE001 - counted
            with lock:
                errors.append(f"{user}: {type(exc).__name__}: {exc}")

    started = time.perf_counter()
    threads = [threading.Thread(target=chat, args=(i,)) for i in range(USERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    wall = time.perf_counter() - started

    turns = sum(len(r) for r in results.values())
    crossings: list[str] = []
    lost: list[str] = []
    acknowledged = 0
    for index, user in enumerate(users):
        own = f":{id_segment(user)}:"
        film, genre = PREFERENCES[index]
        for result in results[user]:
            if "error" in result:
                errors.append(f"{user}: {result['error']}")
                continue
            if result.get("user_id") != user:
                crossings.append(f"{user} got an answer for {result.get('user_id')}")
            cited = set(result.get("memory_ids") or []) | {m for i in result.get("items") or [] for m in i["memory_ids"]}
            crossings += [f"{user} cited {m}" for m in cited if own not in m and not m.startswith("g:")]
            if not result.get("items"):
                errors.append(f"{user}: no items: {json.dumps(result)[:200]}")
        # Memory afterwards: own statements present, nobody else's.
        client = app.client()
        exported = json.loads(client.predict(user, api_name="/export"))
        texts = " | ".join(e["text"] for e in exported["entries"])
        if film not in texts or genre not in texts:
            lost.append(f"{user}: own preference missing from memory: {texts[:300]}")
        for other, (other_film, other_genre) in enumerate(PREFERENCES[:USERS]):
            if other != index and (f"Loved {other_film} (" in texts or f"dislikes {other_genre}." in texts):
                crossings.append(f"{user}'s memory has user {other}'s preference")
        crossings += [f"{user}'s export has an entry of {e['user_id']}" for e in exported["entries"]
                      if e["user_id"] != user]
        stored = {e["memory_id"] for e in exported["entries"]}
        for result in results[user]:
            added = (result.get("memory_written") or {}).get("added") or []
            acknowledged += len(added)
            lost += [f"{user}: acknowledged {m} missing" for m in added if m not in stored]

    print(f"\nconcurrency: {USERS} users x {TURNS} turns ({LLM} LLM): {turns} turns in {wall:.1f} s, "
          f"throughput {turns / wall:.2f} turns/s; latency p50 {percentile(latencies, 0.5):.1f} s, "
          f"p90 {percentile(latencies, 0.9):.1f} s, max {max(latencies, default=0):.1f} s "
          f"(mean {statistics.mean(latencies) if latencies else 0:.1f} s); errors {len(errors)}, "
          f"crossings {len(crossings)}, acknowledged writes {acknowledged}, lost writes {len(lost)}")
    assert not errors, "\n".join(errors[:10])
    assert turns == USERS * TURNS
    assert not crossings, "\n".join(crossings[:10])
    assert not lost, "\n".join(lost[:10])
    assert acknowledged >= USERS  # every user's first turn stored something
