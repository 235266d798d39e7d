"""The Chroma memory store: per-user isolation, levels, supersede, forget, the process lock."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mrrec_chat.memory.builders import build_user_memory
from mrrec_chat.memory.schema import InvalidUserId, MemoryEntry, validate_user_id
from mrrec_chat.memory.store import StoreError, user_filter


def test_user_filter_is_one_validated_and_clause():
    assert user_filter("alice") == {"$and": [{"user_id": {"$eq": "alice"}}, {"status": {"$eq": "current"}}]}
    assert user_filter("alice", current_only=False) == {"user_id": {"$eq": "alice"}}
    for bad in ["", "*", "$ne", '{"$ne": 1}', "a" * 200, "аlice", "__global__", None, 5, "a b", "a:b"]:
        with pytest.raises(InvalidUserId):
            user_filter(bad)  # type: ignore[arg-type]


def test_validate_user_id_accepts_normal_ids():
    for ok in ["196", "new-0123abcd", "redial-77", "a.b_c@d+e"]:
        assert validate_user_id(ok) == ok


def test_search_never_returns_another_users_memory(store, tiny_dataset):
    for user in ("alice", "bob", "carol"):
        store.add(build_user_memory(tiny_dataset, user))
    for user in ("alice", "bob", "carol"):
        for query in ["crime movies", "horror", "animated family comedy", "bob's favourite", "everything"]:
            found = store.search(user, query, k=10)
            assert found, "each user has memory"
            assert {m.entry.user_id for m in found} == {user}
    assert store.search("dave", "crime", k=5) == []


def test_get_and_delete_refuse_other_users_entries(store, tiny_dataset):
    store.add(build_user_memory(tiny_dataset, "alice"))
    alice_id = store.list_user("alice")[0].memory_id
    assert store.get("bob", alice_id) is None
    assert store.delete("bob", alice_id) is False
    assert store.get("alice", alice_id) is not None


def test_superseded_entries_are_kept_but_not_retrieved(store):
    entry = MemoryEntry("c:tiny-movies:alice:1", "chat", "Loves horror movies.", "alice", "Horror", "chat")
    store.add([entry])
    assert [m.memory_id for m in store.search("alice", "horror", 3)] == [entry.memory_id]
    store.set_status("alice", entry.memory_id, "superseded", superseded_by="c:tiny-movies:alice:2")
    assert store.search("alice", "horror", 3) == []
    kept = store.list_user("alice", "chat", current_only=False)
    assert kept[0].status == "superseded" and kept[0].extra["superseded_by"] == "c:tiny-movies:alice:2"


def test_delete_user_removes_every_level(store, tiny_dataset):
    store.add(build_user_memory(tiny_dataset, "alice") + build_user_memory(tiny_dataset, "bob"))
    assert store.delete_user("alice") > 0
    assert store.list_user("alice", current_only=False) == []
    assert store.list_user("bob")


def test_second_process_on_the_same_store_is_refused(store):
    code = ("import sys\nfrom mrrec_chat.memory.store import make_client, StoreError\n"
            "try:\n    make_client(sys.argv[1])\nexcept StoreError as e:\n    print('REFUSED', e)\n")
    path = store.client.get_settings().persist_directory
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=120)
    assert "REFUSED" in out.stdout and "Another MR.Rec process" in out.stdout


def test_chroma_server_unreachable_gives_clear_error():
    from mrrec_chat.memory.store import make_client

    with pytest.raises(StoreError, match="chroma run"):
        make_client("", chroma_host="127.0.0.1", chroma_port=9)


def test_metadata_floats_come_back_from_chroma_exactly(store):
    # Chroma returned about one in ten full-precision timestamps one ulp off; the row cache is fed
    # the metadata we write, so what we write must be what Chroma hands back.
    entries = [MemoryEntry(memory_id=f"p:tiny:alice:t{n}", level="pattern", text=f"Likes topic {n}.",
                           user_id="alice", created_at=1795952951.0 + n / 7 + n * 1e-7, confidence=0.5 + n / 300,
                           extra={"weight": n / 3})
               for n in range(60)]
    store.add(entries)
    raw = store.collections["pattern"].get(ids=[e.memory_id for e in entries])
    back = dict(zip(raw["ids"], raw["metadatas"]))
    assert [back[e.memory_id] for e in entries] == [e.metadata() for e in entries]


def test_a_read_during_a_servers_first_index_build_is_retried():
    """Chroma server: 'Nothing found on disk' while a new collection's first write is indexed
    (the soak's finding); the read is retried, other errors are not."""
    from mrrec_chat.memory.store import MemoryStore

    class Flaky:
        def __init__(self, message):
            self.calls, self.message = 0, message

        def query(self, **kwargs):
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError(self.message)
            return {"ids": [["m1"]], "documents": [["text"]], "metadatas": [[{"level": "chat", "user_id": "u"}]],
                    "distances": [[0.25]]}

    flaky = Flaky("Error creating hnsw segment reader: Nothing found on disk")
    found = MemoryStore._query(flaky, np.zeros(3, dtype=np.float32), 1, {})
    assert flaky.calls == 2 and found[0].memory_id == "m1" and abs(found[0].score - 0.75) < 1e-9
    with pytest.raises(RuntimeError):
        MemoryStore._query(Flaky("something else"), np.zeros(3, dtype=np.float32), 1, {})
