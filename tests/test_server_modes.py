"""The memory store against a real Chroma server (`chroma run`), and the migrate command.

The whole memory-store suite (tests/test_memory_store.py) runs here once per mode: its tests that
use the `store` fixture are imported and the fixture is overridden, parametrized over `embedded`
(PersistentClient in a temporary directory) and `server` (HttpClient to a `chroma run --path
<tmp> --port <free>` started by this test session). Tests about the embedded store's own
process lock are embedded-only and stay in test_memory_store.py.

Every server-mode test gets its own dataset name, so its collections are its own on the shared
server; they are deleted afterwards.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import uuid

import numpy as np
import pytest

import test_memory_store as store_suite
from mrrec_chat.memory.builders import build_user_memory
from mrrec_chat.memory.schema import MemoryEntry
from server_helpers import chroma_server


MODES = ["embedded", "server"]
EMBEDDED_ONLY = {"test_second_process_on_the_same_store_is_refused"}

# Re-export the store suite's tests so that they run here with the parametrized `store` below.
for _name, _fn in vars(store_suite).items():
    if (_name.startswith("test_") and callable(_fn) and _name not in EMBEDDED_ONLY
            and "store" in inspect.signature(_fn).parameters):
        globals()[_name] = _fn


@pytest.fixture(scope="module")
def chroma():
    return chroma_server()


def renamed(dataset, name: str):
    """The same catalog and interactions under another dataset name (own collections)."""
    from mrrec_chat.data.schema import Dataset

    return Dataset(name, dataset.items, dataset.interactions, dataset.rating_scale)


def open_store(mode: str, tmp_path, dataset_name: str, embedder, chroma):
    from mrrec_chat.memory.store import MemoryStore, make_client

    if mode == "server":
        client, lock = make_client(str(tmp_path / "unused"), chroma_host=chroma.host, chroma_port=chroma.port)
    else:
        client, lock = make_client(str(tmp_path / "store"))
    return MemoryStore(client, dataset_name, embedder, lock)


def drop_collections(client, dataset_name: str) -> None:
    for collection in client.list_collections():
        if collection.name.startswith(f"mrrec-{dataset_name}-"):
            client.delete_collection(collection.name)


@pytest.fixture(params=MODES)
def store(request, tmp_path, tiny_dataset, embedder):
    """The memory store in both modes (overrides conftest's embedded-only fixture in this module)."""
    chroma = chroma_server() if request.param == "server" else None
    name = tiny_dataset.name if request.param == "embedded" else f"t{uuid.uuid4().hex[:10]}"
    memory = open_store(request.param, tmp_path, name, embedder, chroma)
    memory.mode = request.param
    yield memory
    if request.param == "server":
        drop_collections(memory.client, name)
    memory.close()


# --- parity between the modes -----------------------------------------------------------------
def test_server_mode_has_no_process_lock_and_same_layout(tmp_path, tiny_dataset, embedder, chroma):
    name = f"t{uuid.uuid4().hex[:10]}"
    embedded = open_store("embedded", tmp_path, name, embedder, None)
    served = open_store("server", tmp_path, name, embedder, chroma)
    try:
        assert served._lock is None and embedded._lock is not None
        # Same collections (names, distance space) and, after the same writes, the same ids, texts
        # and metadata: the data layout does not change between the modes.
        assert {lv: c.name for lv, c in embedded.collections.items()} == \
            {lv: c.name for lv, c in served.collections.items()}
        for collection in served.collections.values():
            assert collection.configuration["hnsw"]["space"] == "cosine"
        entries = build_user_memory(tiny_dataset, "alice") + build_user_memory(tiny_dataset, "bob")
        vectors = embedder.embed([e.text for e in entries])
        embedded.add(entries, vectors)
        served.add(entries, vectors)
        for user in ("alice", "bob"):
            a = [e.to_dict() for e in embedded.list_user(user, current_only=False)]
            b = [e.to_dict() for e in served.list_user(user, current_only=False)]
            assert a == b and a
            for query in ("crime thriller", "animated family film", "what do I dislike"):
                ea = [(m.memory_id, round(m.score, 4)) for m in embedded.search(user, query, 5)]
                eb = [(m.memory_id, round(m.score, 4)) for m in served.search(user, query, 5)]
                assert [i for i, _ in ea] == [i for i, _ in eb]
                assert np.allclose([s for _, s in ea], [s for _, s in eb], atol=1e-3)
    finally:
        drop_collections(served.client, name)
        served.close()
        embedded.close()


def test_two_replicas_share_one_server(tmp_path, tiny_dataset, embedder, chroma):
    """Two app replicas (two stores on one server) see each other's writes at once."""
    name = f"t{uuid.uuid4().hex[:10]}"
    one = open_store("server", tmp_path, name, embedder, chroma)
    two = open_store("server", tmp_path, name, embedder, chroma)
    try:
        entry = MemoryEntry(f"c:{name}:alice:1", "chat", "Strongly dislikes Horror.", "alice", "Horror", "chat")
        one.add([entry])
        assert [m.memory_id for m in two.search("alice", "horror films", 3)] == [entry.memory_id]
        assert two.search("bob", "horror films", 3) == []
        two.set_status("alice", entry.memory_id, "superseded")
        assert one.search("alice", "horror films", 3) == []
    finally:
        drop_collections(one.client, name)


def test_assistant_turn_in_server_mode(tmp_path, tiny_dataset, embedder, chroma):
    """A whole chat turn (memory-only mode) with memory on the server: grounded items, write-back."""
    from mrrec_chat.agent import events as ev
    from mrrec_chat.config import Settings
    from mrrec_chat.service import Assistant

    dataset = renamed(tiny_dataset, f"t{uuid.uuid4().hex[:10]}")
    settings = Settings.from_env(memory_dir=str(tmp_path / "history-only"), chroma_host=chroma.host,
                                 chroma_port=chroma.port, llm_backend="none")
    assistant = Assistant(settings, dataset=dataset, embedder=embedder, load_llm=False).start()
    try:
        events = list(assistant.chat("alice", "A gripping crime film, but I can't stand horror"))
        items = [e for e in events if isinstance(e, ev.ItemsRecommended)][0].items
        assert items and not any("Horror" in r.item.categories for r in items)
        written = [e for e in events if isinstance(e, ev.MemoryWritten)][0]
        assert written.added
        stored = {e.memory_id for e in assistant.store.list_user("alice", "chat")}
        assert set(written.added) <= stored
        # The embedded directory holds only the audit history: the memory itself is on the server.
        assert not (tmp_path / "history-only" / "chroma.sqlite3").exists()
        names = {c.name for c in chroma.client().list_collections()}
        assert any(n.startswith(f"mrrec-{dataset.name}-chat-") for n in names)
    finally:
        assistant.close()
        drop_collections(chroma.client(), dataset.name)
        drop_collections(chroma.client(), dataset.name.replace("_", "-"))


# --- migrate ----------------------------------------------------------------------------------
def _fill(tmp_path, tiny_dataset, embedder, name: str) -> tuple[str, dict[str, int]]:
    """An embedded store with three users' memory plus a superseded chat entry; returns counts."""
    store = open_store("embedded", tmp_path, name, embedder, None)
    for user in ("alice", "bob", "carol"):
        store.add(build_user_memory(tiny_dataset, user))
    entry = MemoryEntry(f"c:{name}:alice:1", "chat", "Loves horror movies.", "alice", "Horror", "chat",
                        extra={"kind": "like", "count": 2})
    store.add([entry])
    store.set_status("alice", entry.memory_id, "superseded", superseded_by="c:x:alice:2")
    counts = {c.name: c.count() for c in store.collections.values()}
    path = store.client.get_settings().persist_directory
    store.close()
    return path, counts


def run_migrate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mrrec_chat.memory.migrate", *args], capture_output=True,
                          text=True, timeout=300)


def test_migrate_dir_to_server_and_back(tmp_path, tiny_dataset, embedder, chroma):
    name = f"t{uuid.uuid4().hex[:10]}"
    source_dir, counts = _fill(tmp_path / "a", tiny_dataset, embedder, name)
    try:
        out = run_migrate("--from-dir", source_dir, "--to-host", chroma.host, "--to-port", str(chroma.port),
                          "--prefix", f"mrrec-{name}-")
        print(out.stdout, out.stderr)
        assert out.returncode == 0, out.stderr
        assert f"Verified: {len(counts)} collections, {sum(counts.values())} entries" in out.stdout
        server_counts = {n: chroma.client().get_collection(n).count() for n in counts}
        assert server_counts == counts
        # The server copy answers like the original (superseded entries stay superseded).
        served = open_store("server", tmp_path, name, embedder, chroma)
        kept = served.list_user("alice", "chat", current_only=False)
        assert kept[0].status == "superseded" and kept[0].extra == {"kind": "like", "count": 2,
                                                                    "superseded_by": "c:x:alice:2"}
        assert {m.entry.user_id for m in served.search("bob", "comedy", 5)} == {"bob"}
        # A second run into the now full target is refused, and changes nothing.
        again = run_migrate("--from-dir", source_dir, "--to-host", chroma.host, "--to-port", str(chroma.port),
                            "--prefix", f"mrrec-{name}-")
        assert again.returncode == 1 and "already holds entries" in again.stderr and "--merge" in again.stderr
        # ... and back into a new directory, verified again.
        back_dir = tmp_path / "back"
        back = run_migrate("--from-host", chroma.host, "--from-port", str(chroma.port), "--to-dir", str(back_dir),
                           "--prefix", f"mrrec-{name}-")
        assert back.returncode == 0, back.stderr
        from mrrec_chat.memory.store import make_client

        client, lock = make_client(str(back_dir))
        try:
            assert {n: client.get_collection(n).count() for n in counts} == counts
        finally:
            lock.release()
    finally:
        drop_collections(chroma.client(), name)


def test_migrate_refuses_missing_source_busy_store_and_bad_arguments(tmp_path, tiny_dataset, embedder, chroma):
    missing = run_migrate("--from-dir", str(tmp_path / "nothing-here"), "--to-host", chroma.host,
                          "--to-port", str(chroma.port))
    assert missing.returncode == 1 and "no memory store" in missing.stderr
    assert not (tmp_path / "nothing-here").exists()  # not created by a failed migration
    unreachable = run_migrate("--from-host", "127.0.0.1", "--from-port", "9", "--to-dir", str(tmp_path / "x"))
    assert unreachable.returncode == 1 and "Cannot reach the Chroma server" in unreachable.stderr
    both = run_migrate("--from-dir", "a", "--from-host", "b", "--to-dir", "c")
    assert both.returncode == 2 and "exactly one source" in both.stderr
    # A store in use by a running process (it holds the lock) is not migrated behind its back.
    name = f"t{uuid.uuid4().hex[:10]}"
    busy = open_store("embedded", tmp_path / "busy", name, embedder, None)
    try:
        busy.add(build_user_memory(tiny_dataset, "alice"))
        out = run_migrate("--from-dir", busy.client.get_settings().persist_directory, "--to-host", chroma.host,
                          "--to-port", str(chroma.port), "--prefix", f"mrrec-{name}-")
        assert out.returncode == 1 and "Another MR.Rec process" in out.stderr
    finally:
        busy.close()
    assert not any(c.name.startswith(f"mrrec-{name}-") for c in chroma.client().list_collections())


def test_migrate_function_verifies_content(tmp_path, tiny_dataset, embedder, chroma):
    """`migrate()` in-process: a target changed under it is reported as a mismatch, not as success."""
    from mrrec_chat.memory.migrate import CollectionReport, migrate, verify_collection

    name = f"t{uuid.uuid4().hex[:10]}"
    source_dir, counts = _fill(tmp_path, tiny_dataset, embedder, name)
    from mrrec_chat.memory.store import make_client

    source, lock = make_client(source_dir)
    target = chroma.client()
    try:
        report = migrate(source, target, prefix=f"mrrec-{name}-", log=lambda _: None)
        assert report.ok and report.total == sum(counts.values())
        behavior = f"mrrec-{name}-behavior-{embedder.fingerprint}"
        col = target.get_collection(behavior)
        first = col.get(limit=1)["ids"][0]
        col.update(ids=[first], metadatas=[{"status": "tampered"}])
        check = CollectionReport(behavior, source.get_collection(behavior).count(), copied=0,
                                 target=col.count())
        verify_collection(source.get_collection(behavior), col, check)
        assert check.mismatches == [f"{first}: metadata differs"]
    finally:
        lock.release()
        drop_collections(target, name)


def test_an_id_owned_by_another_user_is_never_overwritten(store):
    """`a@b` and `a_b` share id segments; the second user's write is refused, the first's kept."""
    from mrrec_chat.memory.store import MemoryIdConflict

    mine = MemoryEntry("b:tiny-movies:a_b:1", "behavior", "Liked Heat.", "a@b", "Action", "feedback")
    theirs = MemoryEntry("b:tiny-movies:a_b:1", "behavior", "Rejected Heat.", "a_b", "Action", "feedback")
    other = MemoryEntry("b:tiny-movies:a_b:2", "behavior", "Liked Casino.", "a_b", "Crime", "feedback")
    store.add([mine])
    with pytest.raises(MemoryIdConflict):
        store.add([other, theirs])  # refused whole: not even `other` is written
    assert [e.text for e in store.list_user("a@b")] == ["Liked Heat."]
    assert store.list_user("a_b") == []
    store.add([MemoryEntry("b:tiny-movies:a_b:1", "behavior", "Rejected Heat.", "a@b", "Action", "feedback")])
    assert [e.text for e in store.list_user("a@b")] == ["Rejected Heat."]  # the owner may overwrite
