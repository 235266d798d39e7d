"""The user-row cache behind memory search: always the same answers as reading Chroma afresh."""

from __future__ import annotations

import threading

import numpy as np

from mrrec_chat.memory.builders import build_user_memory
from mrrec_chat.memory.rowcache import Rows, UserRowsCache
from mrrec_chat.memory.schema import LOCAL_LEVELS, MemoryEntry
from mrrec_chat.memory.store import MemoryStore

QUERIES = ["crime movies", "horror", "animated family comedy", "something light", "war drama"]


def _answers(store: MemoryStore, user: str) -> list:
    """What a turn reads: searches, listings (current and all) and counts, per level and in all."""
    searches = [[(m.entry.memory_id, m.entry.status, m.entry.text, round(m.score, 5))
                 for m in store.search(user, q, k=5)] for q in QUERIES]
    listings = [[e.to_dict() for e in store.list_user(user, level, current_only=current)]
                for level in (None, *LOCAL_LEVELS) for current in (True, False)]
    counts = [store.count_user(user, level) for level in (None, *LOCAL_LEVELS)]
    return [searches, listings, counts]


class _CountingCollection:
    """A Chroma collection that counts `get` calls (everything else passes through)."""

    def __init__(self, collection):
        self._collection, self.gets = collection, 0

    def get(self, *args, **kwargs):
        self.gets += 1
        return self._collection.get(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._collection, name)


def test_store_enables_the_cache_only_when_it_owns_the_store(store, tiny_dataset, embedder):
    assert store.row_cache is not None  # embedded store: this process holds the lock
    unlocked = MemoryStore(store.client, tiny_dataset.name, embedder)  # e.g. a Chroma server
    assert unlocked.row_cache is None


def test_cached_search_equals_fresh_reads_through_every_kind_of_write(store, tiny_dataset, embedder):
    fresh = MemoryStore(store.client, tiny_dataset.name, embedder, cache_rows=0)
    for user in ("alice", "bob"):
        store.add(build_user_memory(tiny_dataset, user))

    def check():
        for user in ("alice", "bob", "carol"):
            assert _answers(store, user) == _answers(fresh, user)

    check()
    loaded = store.row_cache.stats()
    assert loaded["users"] == 3 and loaded["misses"] == 3 * 4  # each user's 4 levels read once
    check()
    again = store.row_cache.stats()
    assert again["misses"] == loaded["misses"] and again["hits"] > loaded["hits"], "served by the cache"

    # A new entry, a supersede (metadata only), a delete, a metadata rewrite, a whole-user delete.
    store.add([MemoryEntry(memory_id="p:tiny:alice:war", level="pattern", text="Loves long war dramas.",
                           user_id="alice", category="Drama", source="chat")])
    check()
    target = store.search("alice", "war drama", k=1)[0].entry
    assert target.memory_id == "p:tiny:alice:war"
    store.set_status("alice", target.memory_id, "superseded")
    check()
    assert all(m.entry.memory_id != target.memory_id for m in store.search("alice", "war drama", k=5))
    victim = store.search("bob", "horror", k=1)[0].entry
    assert store.delete("bob", victim.memory_id)
    check()
    entries = store.list_user("alice")
    for e in entries[:3]:
        e.status = "superseded"
    store.update_metadata(entries[:3])
    check()
    store.delete_user("bob")
    check()
    assert store.search("bob", "horror", k=5) == []


def test_warming_a_user_takes_every_chroma_read_off_the_chat_turn(store, tiny_dataset):
    store.add(build_user_memory(tiny_dataset, "alice"))
    store.add(build_user_memory(tiny_dataset, "bob"))
    counting = {level: _CountingCollection(store.collections[level]) for level in LOCAL_LEVELS}
    store.collections.update(counting)
    rows = store.warm_user("alice")
    assert rows == len(store.list_user("alice", current_only=False)) > 0
    assert sum(c.gets for c in counting.values()) == len(LOCAL_LEVELS), "one read per level when the session opens"
    # What a chat turn does with the store: list behaviour and chat entries, count, search each level.
    store.list_user("alice", "behavior")
    store.list_user("alice", "chat")
    store.count_user("alice")
    store.search("alice", "crime movies", k=3)
    assert sum(c.gets for c in counting.values()) == len(LOCAL_LEVELS), "the turn read no Chroma"
    store.search("bob", "crime movies", k=3)  # bob was not warmed: his first search reads Chroma
    assert sum(c.gets for c in counting.values()) == 2 * len(LOCAL_LEVELS)


def test_a_read_that_raced_with_a_write_is_not_cached():
    cache = UserRowsCache(100)
    generation = cache.generation("alice")
    # The write lands between the read from Chroma and the put: the rows read are already old.
    cache.upserted("behavior", [("alice", "b:1", "new", {"user_id": "alice", "status": "current"},
                                 np.ones(4, dtype=np.float32))])
    stale = Rows(["b:0"], ["old"], [{"user_id": "alice", "status": "current"}], np.ones((1, 4), np.float32))
    cache.put("alice", "behavior", stale, generation)
    assert cache.get("alice", "behavior") is None
    cache.put("alice", "behavior", stale, cache.generation("alice"))
    assert cache.get("alice", "behavior").ids == ["b:0"]


def test_cache_evicts_least_recently_used_users_beyond_its_row_budget():
    cache = UserRowsCache(max_rows=5)
    for user in ("a", "b", "c"):
        rows = Rows([f"{user}{n}" for n in range(2)], ["x", "y"], [{}, {}], np.eye(2, 4, dtype=np.float32))
        cache.put(user, "behavior", rows, cache.generation(user))
        cache.get("a", "behavior")  # keep "a" recently used
    assert cache.get("b", "behavior") is None  # evicted first: least recently used
    assert cache.get("a", "behavior") is not None and cache.get("c", "behavior") is not None
    assert cache.stats()["rows"] == 4
    too_big = Rows([str(n) for n in range(6)], [""] * 6, [{}] * 6, np.ones((6, 4), np.float32))
    cache.put("d", "behavior", too_big, cache.generation("d"))
    assert cache.get("d", "behavior") is None


def test_rows_held_by_a_reader_never_change_under_it():
    cache = UserRowsCache(100)
    rows = Rows(["b:0"], ["zero"], [{"status": "current"}], np.ones((1, 4), np.float32))
    cache.put("alice", "behavior", rows, cache.generation("alice"))
    held = cache.get("alice", "behavior")
    cache.upserted("behavior", [("alice", "b:1", "one", {"status": "current"}, np.arange(4, dtype=np.float32))])
    cache.metadata_changed("behavior", [("alice", "b:0", {"status": "superseded"})])
    cache.deleted("alice", "behavior", ["b:0"])
    assert (held.ids, held.metadatas, held.vectors.shape) == (["b:0"], [{"status": "current"}], (1, 4))
    now = cache.get("alice", "behavior")
    assert now.ids == ["b:1"] and np.isclose(np.linalg.norm(now.vectors[0]), 1.0)


def test_concurrent_searches_and_writes_end_consistent(store, tiny_dataset, embedder):
    store.add(build_user_memory(tiny_dataset, "alice"))
    errors: list[BaseException] = []

    def writer():
        try:
            for n in range(15):
                store.add([MemoryEntry(memory_id=f"p:tiny:alice:n{n}", level="pattern", text=f"Likes topic {n}.",
                                       user_id="alice", category="Drama", source="chat")])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def reader():
        try:
            for _ in range(30):
                store.search("alice", "topic", k=3)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    fresh = MemoryStore(store.client, tiny_dataset.name, embedder, cache_rows=0)
    assert _answers(store, "alice") == _answers(fresh, "alice")
    assert len(store.list_user("alice", "pattern")) >= 15
