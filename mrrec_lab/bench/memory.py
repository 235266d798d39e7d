"""Memory-store scaling: filtered search latency and insert throughput in embedded Chroma at
10k, 100k and 1M entries, plus the embedding throughput of the real embedder.

Synthetic data, laid out as the app lays out memory: one collection (cosine space) of entries
with `user_id`, `status`, `level`, `category` metadata and a short document; 100 entries per
user; random unit vectors of the real embedding dimension (384). Entries are inserted with
precomputed vectors in the largest batches Chroma accepts. Search is the app's per-user read:
`memory.store.user_filter(user)` (user id and status under `$and`), k = 3, a random query vector,
for random users, three ways: the filtered HNSW query; the exact per-user scan the app does on a
user's first search in a process (`MemoryStore._scan`: Chroma `get` by user id, then NumPy); and
the same scan served by the user-row cache (`memory.rowcache`), which is what every later search
of that user costs (a chat turn searches each level in each reasoning round). Then the app around
a chat turn, on the real `MemoryStore`: opening a session (`warm_user`) and the turn's store reads
after it, next to the same turn for a user whose session was not opened. When the time
budget runs out before the largest size, the benchmark stops there and reports the size it
reached, plus an extrapolated insert time, labelled as such.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mrrec_lab.bench.common import markdown_table, peak_rss_mb, summary

ENTRIES_PER_USER = 100
CATEGORIES = ("Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Thriller", "Western")


def embedding_throughput(n_sentences: int = 2000, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Sentences/s of the real embedder on memory-like texts (batched), and one-query latency."""
    from mrrec_chat.embedding import Embedder

    started = time.perf_counter()
    embedder = Embedder()
    load_s = time.perf_counter() - started
    rng = np.random.default_rng(0)
    texts = [f"Rated Movie number {i} ({1950 + i % 70}) {1 + i % 5}/5. Genres: "
             f"{CATEGORIES[i % len(CATEGORIES)]}, {CATEGORIES[(i * 7) % len(CATEGORIES)]}. "
             f"Review: {'great' if rng.random() > 0.5 else 'dull'} story, {int(rng.integers(1, 100))} stars of the era."
             for i in range(n_sentences)]
    embedder.embed(texts[:64])  # warm-up (not cached: distinct texts below)
    batched = {}
    for batch_size in (32, 64, 128):
        subset = [t + f" [{batch_size}]" for t in texts]
        started = time.perf_counter()
        embedder.embed(subset, batch_size=batch_size)
        batched[batch_size] = n_sentences / (time.perf_counter() - started)
    singles = []
    for text in texts[:100]:
        started = time.perf_counter()
        embedder.embed_one(text + " single")
        singles.append(time.perf_counter() - started)
    started = time.perf_counter()
    for text in texts[:100]:
        embedder.embed_one(text + " single")
    cached_s = (time.perf_counter() - started) / 100
    best = max(batched, key=batched.get)
    progress(f"  embedding: {batched[best]:.0f} sentences/s (batch {best}), one query "
             f"{1000 * statistics.median(singles):.1f} ms, cached {1e6 * cached_s:.0f} µs")
    return {"model": embedder.model_name, "dimension": embedder.dimension, "load_s": load_s,
            "sentences_per_s": batched[best], "best_batch_size": best,
            "sentences_per_s_by_batch": {str(k): v for k, v in batched.items()},
            "one_query_ms": summary([1000 * s for s in singles]), "cached_query_us": 1e6 * cached_s}


def _batch(start: int, count: int, dim: int, rng: np.random.Generator):
    vectors = rng.standard_normal((count, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids, docs, metas = [], [], []
    for n in range(start, start + count):
        user = n // ENTRIES_PER_USER
        category = CATEGORIES[n % len(CATEGORIES)]
        ids.append(f"b:bench:u{user}:{n}")
        docs.append(f"Rated Movie {n} ({1950 + n % 70}) {1 + n % 5}/5. Genres: {category}.")
        metas.append({"level": "behavior", "user_id": f"u{user}", "category": category, "source": "bench",
                      "created_at": float(1e9 + n), "status": "current" if n % 10 else "superseded",
                      "confidence": 1.0})
    return ids, vectors, docs, metas


def chroma_scaling(sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000), dim: int = 384, queries: int = 300,
                   budget_s: float = 15 * 60, directory: str | None = None,
                   progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Grow one persistent collection through `sizes`; at each size time filtered searches."""
    import chromadb

    from mrrec_chat.memory.rowcache import UserRowsCache
    from mrrec_chat.memory.store import MemoryStore, user_filter

    path = Path(directory or tempfile.mkdtemp(prefix="mrrec-bench-chroma-"))
    client = chromadb.PersistentClient(path=str(path), settings=chromadb.Settings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("bench-behavior", embedding_function=None,
                                                 configuration={"hnsw": {"space": "cosine"}})
    max_batch = min(client.get_max_batch_size(), 5000)
    rng = np.random.default_rng(0)
    stages: list[dict[str, Any]] = []
    inserted = 0
    insert_s_total = 0.0
    stopped_early = None
    try:
        for size in sizes:
            stage_started, stage_count = time.perf_counter(), 0
            insert_s = 0.0
            while inserted < size:
                if insert_s_total > budget_s:
                    stopped_early = size
                    break
                count = min(max_batch, size - inserted)
                ids, vectors, docs, metas = _batch(inserted, count, dim, rng)
                started = time.perf_counter()
                collection.add(ids=ids, embeddings=vectors, documents=docs, metadatas=metas)
                elapsed = time.perf_counter() - started
                insert_s += elapsed
                insert_s_total += elapsed
                inserted += count
                stage_count += count
                if inserted % 100_000 < count:
                    progress(f"  inserted {inserted:,} ({stage_count / insert_s:.0f}/s this stage, "
                             f"{time.perf_counter() - stage_started:.0f} s)")
            n_users = max(1, inserted // ENTRIES_PER_USER)
            latencies, scan_latencies, cached_latencies = [], [], []
            hits = []
            cache = UserRowsCache(50_000)
            for q in range(queries + 10):
                user = f"u{int(rng.integers(0, n_users))}"
                vector = rng.standard_normal(dim).astype(np.float32)
                vector /= np.linalg.norm(vector)
                started = time.perf_counter()
                result = collection.query(query_embeddings=[vector], n_results=3, where=user_filter(user),
                                          include=["documents", "metadatas", "distances"])
                elapsed = time.perf_counter() - started
                where = user_filter(user, current_only=False)
                started = time.perf_counter()
                scanned = exact_user_scan(collection, where, vector, 3)
                scan_elapsed = time.perf_counter() - started
                MemoryStore._scan(collection, vector, 3, where, user, cache, "behavior")  # first search: loads
                started = time.perf_counter()
                cached = MemoryStore._scan(collection, vector, 3, where, user, cache, "behavior")
                cached_elapsed = time.perf_counter() - started
                if q >= 10:  # the first queries load the index
                    latencies.append(1000 * elapsed)
                    scan_latencies.append(1000 * scan_elapsed)
                    cached_latencies.append(1000 * cached_elapsed)
                    hits.append(all(m["user_id"] == user and m["status"] == "current" for m in result["metadatas"][0])
                                and len(result["ids"][0]) == 3 and scanned[0] == result["ids"][0][0]
                                and [r.entry.memory_id for r in cached] == scanned)
            session = app_session_reads(client, collection, n_users, dim, rng, queries=min(queries, 100))
            stage = {"target": size, "entries": inserted, "users": n_users, "session": session,
                     "inserted_this_stage": stage_count, "insert_s": insert_s,
                     "insert_per_s": stage_count / insert_s if insert_s else float("nan"),
                     "search_ms": summary(latencies), "scan_ms": summary(scan_latencies),
                     "cached_scan_ms": summary(cached_latencies),
                     "search_correct": sum(hits) / max(1, len(hits)),
                     "disk_mb": _disk_mb(path), "peak_rss_mb": peak_rss_mb()}
            if stopped_early == size:
                stage["stopped_early"] = True
                rate = inserted / insert_s_total
                stage["extrapolated_insert_s_to_target"] = size / rate
            stages.append(stage)
            progress(f"  {inserted:,} entries: filtered search p50 {stage['search_ms']['median']:.1f} ms, "
                     f"p99 {stage['search_ms']['p99']:.1f} ms; exact per-user scan p50 "
                     f"{stage['scan_ms']['median']:.1f} ms, p99 {stage['scan_ms']['p99']:.1f} ms; cached "
                     f"{stage['cached_scan_ms']['median']:.2f} ms, p99 {stage['cached_scan_ms']['p99']:.2f} ms; "
                     f"insert {stage['insert_per_s']:.0f}/s")
            if stopped_early:
                break
    finally:
        del collection, client
        if directory is None:
            shutil.rmtree(path, ignore_errors=True)
    return {"dimension": dim, "entries_per_user": ENTRIES_PER_USER, "queries_per_size": queries,
            "batch_size": max_batch, "budget_s": budget_s, "stages": stages,
            "stopped_early_at_target": stopped_early}


class _BenchEmbedder:
    """Names the store's collections; queries come with their vectors, so nothing is embedded."""

    fingerprint = "bench"


def app_session_reads(client, collection, n_users: int, dim: int, rng: np.random.Generator,
                      queries: int = 100) -> dict[str, Any]:
    """What the app's store reads cost around a chat turn, on the real `MemoryStore` (row cache on,
    as in the embedded store) with this stage's collection as its behavior level (the other levels
    empty): opening a session (`warm_user`, done by `Assistant.ensure_user` on page load or user
    pick) and then a turn's reads (list behavior and chat entries, two searches over every level),
    next to the same turn for a user whose session was not opened first (everything read from Chroma)."""
    from mrrec_chat.memory.store import MemoryStore, user_filter

    store = MemoryStore(client, "bench", _BenchEmbedder(), cache_rows=50_000)
    store.collections["behavior"] = collection
    open_ms, turn_ms, cold_ms, same = [], [], [], []

    def turn(user: str) -> None:
        store.list_user(user, "behavior")
        store.list_user(user, "chat")
        for _ in range(2):
            vector = rng.standard_normal(dim).astype(np.float32)
            store.search(user, "", 3, query_embedding=vector / np.linalg.norm(vector))

    users = [f"u{int(u)}" for u in rng.choice(n_users, size=min(n_users, 2 * (queries + 5)), replace=False)]
    for q, (opened, cold) in enumerate(zip(users[0::2], users[1::2])):
        started = time.perf_counter()
        store.warm_user(opened)
        warmed = time.perf_counter()
        turn(opened)
        done = time.perf_counter()
        turn(cold)
        cold_done = time.perf_counter()
        if q >= 5:  # the first reads load the index
            open_ms.append(1000 * (warmed - started))
            turn_ms.append(1000 * (done - warmed))
            cold_ms.append(1000 * (cold_done - done))
            same.append(store.count_user(opened) == len(collection.get(where=user_filter(opened), include=[])["ids"]))
    return {"open_ms": summary(open_ms), "turn_after_open_ms": summary(turn_ms),
            "turn_not_opened_ms": summary(cold_ms), "counts_match_chroma": sum(same) / max(1, len(same)),
            "sessions": len(open_ms)}


def exact_user_scan(collection, where: dict, vector: np.ndarray, k: int) -> list[str]:
    """Ids of the k nearest current entries by exact cosine over the user's rows: the app's
    search path (`MemoryStore._scan`: `get` by user id alone, status and product in numpy)."""
    from mrrec_chat.memory.store import MemoryStore

    return [r.entry.memory_id for r in MemoryStore._scan(collection, vector, k, where, where["user_id"]["$eq"])]


def _disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def run_memory(sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000), queries: int = 300,
               budget_s: float = 15 * 60, progress: Callable[[str], None] = print) -> dict[str, Any]:
    progress("embedding throughput (real embedder) ...")
    embedding = embedding_throughput(progress=progress)
    progress(f"Chroma scaling {', '.join(f'{s:,}' for s in sizes)} (insert budget {budget_s / 60:.0f} min) ...")
    chroma = chroma_scaling(sizes, dim=embedding["dimension"], queries=queries, budget_s=budget_s, progress=progress)
    return {"embedding": embedding, "chroma": chroma}


def memory_markdown(data: dict[str, Any]) -> str:
    e, c = data["embedding"], data["chroma"]
    rows = []
    for st in c["stages"]:
        label = f"{st['entries']:,}" + (" (stopped: budget)" if st.get("stopped_early") else "")
        rows.append([label, f"{st['users']:,}", st["search_ms"]["median"], st["search_ms"]["p99"],
                     f"{100 * st['search_correct']:.0f}%", st["insert_per_s"], st["disk_mb"]])
    for row, st in zip(rows, c["stages"]):
        row[4:4] = [st["scan_ms"]["median"], st["scan_ms"]["p99"]]
        if "cached_scan_ms" in st:
            row[6:6] = [f"{st['cached_scan_ms']['median']:.2f}", f"{st['cached_scan_ms']['p99']:.2f}"]
        else:
            row[6:6] = ["–", "–"]
    table = markdown_table(["entries", "users", "filtered HNSW p50 ms", "p99 ms",
                            "app: first search of a user p50 ms", "p99 ms",
                            "app: later searches (row cache) p50 ms", "p99 ms",
                            "correct user/status, top-1 = exact, cache = exact",
                            "insert docs/s (this stage)", "disk MiB"], rows, digits=1)
    sessions = [[f"{st['entries']:,}", st["session"]["open_ms"]["median"], st["session"]["open_ms"]["p99"],
                 f"{st['session']['turn_after_open_ms']['median']:.2f}", f"{st['session']['turn_after_open_ms']['p99']:.2f}",
                 st["session"]["turn_not_opened_ms"]["median"], st["session"]["turn_not_opened_ms"]["p99"],
                 f"{100 * st['session']['counts_match_chroma']:.0f}%"]
                for st in c["stages"] if "session" in st]
    if sessions:
        table += ("\n\nThe app around a chat turn (`MemoryStore` with the row cache, this collection as its "
                  "behavior level): opening a session loads the user's rows (`warm_user`, on page load or user "
                  "pick); a turn then lists behavior and chat entries and searches every level twice.\n\n"
                  + markdown_table(["entries", "session open p50 ms", "p99 ms", "turn's store reads after open p50 ms",
                                    "p99 ms", "same turn, session not opened p50 ms", "p99 ms",
                                    "counts = Chroma"], sessions, digits=1))
    notes = []
    for st in c["stages"]:
        if st.get("stopped_early"):
            notes.append(f"Insert budget ({c['budget_s'] / 60:.0f} min) ran out at {st['entries']:,} entries; "
                         f"EXTRAPOLATED insert time to {st['target']:,}: "
                         f"{st['extrapolated_insert_s_to_target'] / 60:.0f} min at the average rate so far.")
    return (f"Embedded Chroma (PersistentClient), one collection, cosine space, dim {c['dimension']}, "
            f"{c['entries_per_user']} entries per user (10% superseded), random unit vectors, batches of "
            f"{c['batch_size']}; k = 3, {c['queries_per_size']} queries per size. Filtered HNSW = "
            f"`query(where=user_filter(user))` (user and status under `$and`); the app's search = "
            f"`MemoryStore._scan` (Chroma `get` by user id, exact cosine in NumPy), whose rows stay in the "
            f"user-row cache for the user's later searches.\n\n{table}\n\n" + "".join(n + "\n\n" for n in notes) +
            f"Embedding ({e['model']}, dim {e['dimension']}): **{e['sentences_per_s']:.0f} sentences/s** batched "
            f"(batch {e['best_batch_size']}), one query {e['one_query_ms']['median']:.1f} ms median, "
            f"cache hit {e['cached_query_us']:.0f} µs. A 1M-entry memory build is bounded by embedding: "
            f"{1e6 / e['sentences_per_s'] / 60:.0f} min of embedding vs. Chroma inserts above.\n")
