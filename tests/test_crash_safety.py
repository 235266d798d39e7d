"""Crash safety of the embedded store: kill -9 during write-backs, corrupt and foreign stores.

1. The app (memory-only mode, so turns are fast and write-backs frequent) serves several users
   who keep chatting, each message stating new preferences; it is killed with SIGKILL while
   requests are in flight. It restarts on the same store (the dead process's lock must not block
   it), every acknowledged write (a /recommend that returned `memory_written.added`) is there, and
   a second app process on the same store is refused with a clear message. Then the restarted app
   is killed the same way, and the store is reopened and checked offline: every entry complete (text, metadata, a finite
   vector of the right size), every superseded entry pointing at an entry that exists, every
   acknowledged write with its audit row.
2. A corrupt store (garbage or truncated database), a foreign directory (someone else's files or
   someone else's SQLite file) and a file in place of the directory each give a clear error, and
   the directory is left exactly as it was (never deleted, overwritten or added to).
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest

from mrrec_chat.memory.schema import LEVELS
from server_helpers import AppProcess, app_args


WRITERS = 6


def tree_digest(path: Path) -> dict[str, str]:
    """Every file under `path` with its SHA-256 (to prove a failed start changed nothing)."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


class Writers:
    """Users who chat continuously; records what the app acknowledged."""

    def __init__(self, url: str, titles: list[str], genres: list[str]):
        self.url = url
        self.titles = titles
        self.genres = genres
        self.acked: dict[str, set[str]] = {}
        self.started = 0
        self.finished = 0
        self.failed = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def run(self, users: list[str]) -> None:
        for n, user in enumerate(users):
            thread = threading.Thread(target=self._loop, args=(user, n), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _loop(self, user: str, n: int) -> None:
        from gradio_client import Client

        try:
            client = Client(self.url, verbose=False)
        except Exception:  # noqa: BLE001 - the app may already be gone
            return
        try:
            self._chat(client, user, n)
        finally:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - the app may be dead
                pass

    def _chat(self, client, user: str, n: int) -> None:
        turn = 0
        while not self.stop.is_set():
            picks = [self.titles[(n * 7 + turn * 3 + k) % len(self.titles)] for k in range(3)]
            genre = self.genres[(n + turn) % len(self.genres)]
            message = (f"I loved {picks[0]}. I really enjoyed {picks[1]} and {picks[2]}. "
                       f"I can't stand {genre} movies. What else?")
            with self.lock:
                self.started += 1
            try:
                result = client.predict(user, message, api_name="/recommend")
            except Exception:  # noqa: BLE001 - the kill
                with self.lock:
                    self.failed += 1
                return
            with self.lock:
                self.finished += 1
                added = (result.get("memory_written") or {}).get("added") or []
                self.acked.setdefault(user, set()).update(added)
            turn += 1

    def acknowledged(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.acked.values())

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def kill_during_writes(app: AppProcess, writers: Writers, users: list[str], min_acked: int) -> dict:
    writers.run(users)
    deadline = time.time() + 240
    while writers.acknowledged() < min_acked and time.time() < deadline:
        time.sleep(0.05)
    in_flight = writers.started - writers.finished
    app.kill()  # SIGKILL: no shutdown code runs
    writers.join()
    return {"acknowledged": writers.acknowledged(), "in_flight_at_kill": in_flight}


def check_acked_via_app(app: AppProcess, acked: dict[str, set[str]]) -> list[str]:
    client = app.client()
    lost = []
    for user, ids in acked.items():
        exported = json.loads(client.predict(user, api_name="/export"))
        stored = {e["memory_id"] for e in exported["entries"]}
        lost += [f"{user}: {m}" for m in ids - stored]
    return lost


def offline_check(store_dir: Path, acked: dict[str, set[str]]) -> tuple[int, list[str], list[str]]:
    """Open the store as a restarted app would; (entries checked, half-written, lost)."""
    import chromadb

    from mrrec_chat.memory.store import make_client

    client, lock = make_client(str(store_dir))  # also proves the killed process left no lock behind
    half: list[str] = []
    present: set[str] = set()
    checked = 0
    try:
        for collection in client.list_collections():
            if not collection.name.startswith("mrrec-") or "-catalog-" in collection.name:
                continue
            col = client.get_collection(collection.name)
            got = col.get(include=["documents", "metadatas", "embeddings"])
            ids = set(got["ids"])
            for memory_id, doc, meta, vec in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]):
                checked += 1
                present.add(memory_id)
                meta = meta or {}
                problems = []
                if not isinstance(doc, str) or not doc.strip():
                    problems.append("no text")
                if meta.get("level") not in LEVELS or not meta.get("user_id") or "created_at" not in meta:
                    problems.append(f"metadata incomplete {meta}")
                if meta.get("status") not in ("current", "superseded"):
                    problems.append(f"status {meta.get('status')!r}")
                if len(vec) != 384 or not all(math.isfinite(float(x)) for x in vec):
                    problems.append("bad vector")
                if meta.get("status") == "superseded" and meta.get("x_superseded_by") \
                        and meta["x_superseded_by"] not in ids:
                    problems.append(f"superseded by a missing entry {meta['x_superseded_by']}")
                if problems:
                    half.append(f"{memory_id}: {problems}")
    finally:
        lock.release()
        chromadb.api.client.SharedSystemClient.clear_system_cache()
    lost = [f"{u}: {m}" for u, ids in acked.items() for m in ids - present]
    with sqlite3.connect(str(store_dir / "history.sqlite3")) as db:
        audited = {row[0] for row in db.execute("SELECT memory_id FROM history WHERE action = 'add'")}
    lost += [f"{u}: {m} has no audit row" for u, ids in acked.items() for m in ids - audited]
    return checked, half, lost


def test_kill_9_during_write_backs_then_restart(tmp_path, tiny_dataset_dir, tiny_dataset):
    store = tmp_path / "store"
    args = app_args(tiny_dataset_dir, store, llm="none")
    titles = [item.title for item in tiny_dataset.items.values()]
    genres = ["Horror", "Romance", "Western", "War", "Musical", "Animation"]
    suffix = uuid.uuid4().hex[:6]
    acked: dict[str, set[str]] = {}
    report = []
    app = AppProcess(args).start()
    try:
        # Round 1: kill -9 mid-traffic, restart the app on the same store, check, try a second app.
        writers = Writers(app.url, titles, genres)
        stats = kill_during_writes(app, writers, [f"crash1-{i}-{suffix}" for i in range(WRITERS)], min_acked=12)
        acked.update({u: set(ids) for u, ids in writers.acked.items()})
        started = time.perf_counter()
        app = AppProcess(args).start()  # the killed process's lock must not block this
        stats["restart_s"] = round(time.perf_counter() - started, 1)
        lost = check_acked_via_app(app, acked)
        second = AppProcess(args).start(expect_ready=False)
        code, out = second.wait_exit(timeout=300)
        stats.update(lost=len(lost), second_app_exit=code)
        report.append(stats)
        assert not lost, lost[:10]
        assert code == 1 and "Another MR.Rec process" in out, out[-2000:]
        # Round 2: kill -9 the restarted app mid-traffic; the store is then reopened offline below
        # (as the next start would: lock free, every acknowledged write there, nothing half-written).
        writers = Writers(app.url, titles, genres)
        report.append(kill_during_writes(app, writers, [f"crash2-{i}-{suffix}" for i in range(WRITERS)],
                                         min_acked=12))
        acked.update({u: set(ids) for u, ids in writers.acked.items()})
    finally:
        app.stop()
    checked, half, lost = offline_check(store, acked)
    total_acked = sum(len(v) for v in acked.values())
    print(f"\ncrash safety: rounds {report}; acknowledged writes {total_acked}, entries checked {checked}, "
          f"half-written {len(half)}, lost writes {len(lost)}")
    assert total_acked >= 24
    assert not half, half[:10]
    assert not lost, lost[:10]


# --- corrupt and foreign stores ---------------------------------------------------------------
def make_store(path: Path, dataset, embedder) -> None:
    from mrrec_chat.memory.builders import build_user_memory
    from mrrec_chat.memory.store import MemoryStore, make_client

    client, lock = make_client(str(path))
    store = MemoryStore(client, dataset.name, embedder, lock)
    store.add(build_user_memory(dataset, "alice"))
    store.close()
    import chromadb

    chromadb.api.client.SharedSystemClient.clear_system_cache()


def start_assistant(path: Path, dataset, embedder):
    from mrrec_chat.config import Settings
    from mrrec_chat.service import Assistant

    settings = Settings.from_env(memory_dir=str(path), llm_backend="none")
    return Assistant(settings, dataset=dataset, embedder=embedder, load_llm=False).start()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign-files", "foreign-sqlite", "a-file"])
def test_corrupt_or_foreign_store_is_a_clear_error_and_left_untouched(damage, tmp_path, tiny_dataset, embedder):
    from mrrec_chat.memory.store import StoreError

    path = tmp_path / "store"
    if damage in ("garbage", "truncated"):
        make_store(path, tiny_dataset, embedder)
        db = path / "chroma.sqlite3"
        if damage == "garbage":
            db.write_bytes(b"\x00garbage, not a database\xff" * 200)
        else:
            db.write_bytes(db.read_bytes()[:db.stat().st_size // 3])
        expected = "corrupt"
    elif damage == "foreign-files":
        path.mkdir()
        (path / "thesis.tex").write_text("my thesis")
        (path / "photos").mkdir()
        (path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
        expected = "not an MR.Rec memory store"
    elif damage == "foreign-sqlite":
        path.mkdir()
        with sqlite3.connect(str(path / "chroma.sqlite3")) as db:
            db.execute("CREATE TABLE invoices (id INTEGER, amount REAL)")
            db.execute("INSERT INTO invoices VALUES (1, 9.5)")
        expected = "another program"
    else:
        path.write_text("not a directory")
        expected = "is a file"
    before = tree_digest(path) if path.is_dir() else {"file": hashlib.sha256(path.read_bytes()).hexdigest()}
    with pytest.raises(StoreError, match=expected) as info:
        start_assistant(path, tiny_dataset, embedder)
    print(f"\n{damage}: {info.value}")
    after = tree_digest(path) if path.is_dir() else {"file": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert after == before, "a failed start changed the store directory"
    assert "MRREC_MEMORY_DIR" in str(info.value) or "--memory-dir" in str(info.value)
    # The lock was released: fixing the problem (here: another directory) works in the same process.
    if damage in ("garbage", "truncated"):
        good = tmp_path / "good"
        assistant = start_assistant(good, tiny_dataset, embedder)
        assistant.close()


def test_corrupt_store_through_the_app(tmp_path, tiny_dataset_dir, tiny_dataset, embedder):
    """The app itself: exit status 1 and one clear line, the store untouched."""
    path = tmp_path / "store"
    make_store(path, tiny_dataset, embedder)
    (path / "chroma.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\x13" * 4000)
    before = tree_digest(path)
    app = AppProcess(app_args(tiny_dataset_dir, path, llm="none")).start(expect_ready=False)
    code, out = app.wait_exit(timeout=300)
    assert code == 1 and "MR.Rec Chat could not start" in out and "corrupt" in out, out[-2000:]
    assert "Traceback" not in out
    assert tree_digest(path) == before
    shutil.rmtree(path)
