"""Chroma churn: the store access patterns of the app and the evaluator, without models, fast.

    python -m mrrec_lab.chroma_churn --pattern eval --seconds 300
    python -m mrrec_lab.chroma_churn --pattern threads --threads 8 --seconds 300

Issue 23: an evaluator run died once with a segmentation fault inside Chroma's Rust bindings after
2,295 runs (embedded store). The soak (mrrec_lab/soak.py) drives the real app, whose memory
operations cost ~0.4 s each through Gradio on this machine; this tool replays the same Chroma call
sequences directly, with random 384-d vectors instead of the encoder, hundreds of times faster:

* ``eval``: what `EvalContext` does per case, one case after another: delete the case user's
  entries (where user_id), upsert 5-150 entries with metadata, filtered queries, a get, delete
  the user again;
* ``threads``: what the app does with several users at once: each thread owns a user and upserts,
  deletes single ids, queries and gets; writes are serialised by one lock (as `MemoryStore` does),
  reads are not;
* ``first-write``: a fresh collection, its first upsert, and a reader calling `get` (with
  embeddings, filtered by user, as `MemoryStore._load_rows` does) while that upsert is in flight;
  repeated on new collections. On a Chroma server this is the trigger of "Error creating hnsw
  segment reader: Nothing found on disk" seen in the soak; counted, not fatal.

The work runs in a child process with faulthandler on, so a segfault is seen (exit -11) with
the Python stack of every thread; the parent reports cycles, calls, and how it ended.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

DIM = 384
LEVELS = ("behavior", "pattern", "profile", "chat")


def _vectors(rng, n: int):
    import numpy as np

    v = rng.standard_normal((n, DIM)).astype("float32")
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _entries(rng, user: str, n: int, start: int):
    ids = [f"{user}:{start + i}" for i in range(n)]
    metas = [{"user_id": user, "level": LEVELS[i % 4], "status": "current", "created_at": float(start + i),
              "category": "general", "confidence": 1.0} for i in range(n)]
    docs = [f"entry {start + i} of {user}" for i in range(n)]
    return ids, metas, docs


def child(args: argparse.Namespace) -> int:
    import faulthandler

    import chromadb
    import numpy as np

    faulthandler.enable(all_threads=True)
    path = Path(args.path)
    if args.host:
        client = chromadb.HttpClient(host=args.host, port=args.port,
                                     settings=chromadb.Settings(anonymized_telemetry=False))
    else:
        client = chromadb.PersistentClient(str(path), settings=chromadb.Settings(anonymized_telemetry=False))
    collections = [client.get_or_create_collection(f"churn_{level}", metadata={"hnsw:space": "cosine"})
                   for level in LEVELS]
    deadline = time.time() + args.seconds
    counts = {"cycles": 0, "calls": 0}
    write_lock = threading.Lock()
    progress = path / "progress.json"

    def eval_worker(seed: int) -> None:
        rng = np.random.default_rng(seed)
        case = 0
        while time.time() < deadline:
            user = f"case-{case % 400}"
            col = collections[case % 4]
            col.delete(where={"user_id": user})
            n = int(rng.integers(5, 150))
            ids, metas, docs = _entries(rng, user, n, case * 1000)
            col.upsert(ids=ids, embeddings=_vectors(rng, n), metadatas=metas, documents=docs)
            for _ in range(3):
                col.query(query_embeddings=_vectors(rng, 1), n_results=3,
                          where={"$and": [{"user_id": user}, {"status": "current"}]})
            col.get(where={"user_id": user}, include=["metadatas"])
            col.delete(where={"user_id": user})
            case += 1
            counts["cycles"] += 1
            counts["calls"] += 7
            if case % 50 == 0:
                progress.write_text(json.dumps(counts))

    def first_write_worker(seed: int) -> None:
        rng = np.random.default_rng(seed)
        errors: Counter = Counter()
        n = 0
        while time.time() < deadline:
            col = client.get_or_create_collection(f"fresh_{seed}_{n}", metadata={"hnsw:space": "cosine"})
            before = sum(errors.values())
            done = threading.Event()

            def reader() -> None:
                while not done.is_set():
                    try:
                        col.get(where={"user_id": "u"}, include=["embeddings", "documents", "metadatas"])
                    except Exception as exc:  # noqa: BLE001 - the point is to count them
                        errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1
                    counts["calls"] += 1
            thread = threading.Thread(target=reader)
            thread.start()
            ids, metas, docs = _entries(rng, "u", 3, 0)
            col.upsert(ids=ids, embeddings=_vectors(rng, 3), metadatas=metas, documents=docs)
            time.sleep(0.05)
            done.set()
            thread.join()
            client.delete_collection(col.name)
            n += 1
            counts["cycles"] = n
            counts["collections_with_errors"] = counts.get("collections_with_errors", 0) + (
                sum(errors.values()) > before)
            counts["errors"] = dict(errors)
            progress.write_text(json.dumps(counts))

    def thread_worker(seed: int) -> None:
        rng = np.random.default_rng(seed)
        user = f"user-{seed}"
        live: list[str] = []
        serial = 0
        while time.time() < deadline:
            col = collections[int(rng.integers(0, 4))]
            action = rng.random()
            if action < 0.35 or not live:
                n = int(rng.integers(1, 20))
                ids, metas, docs = _entries(rng, user, n, serial)
                serial += n
                with write_lock:
                    col.upsert(ids=ids, embeddings=_vectors(rng, n), metadatas=metas, documents=docs)
                live.extend(ids)
            elif action < 0.55:
                victim = live.pop(int(rng.integers(0, len(live))))
                with write_lock:
                    for c in collections:
                        c.delete(ids=[victim])
            elif action < 0.6:
                with write_lock:
                    for c in collections:
                        c.delete(where={"user_id": user})
                live.clear()
            elif action < 0.85:
                col.query(query_embeddings=_vectors(rng, 1), n_results=5,
                          where={"$and": [{"user_id": user}, {"status": "current"}]})
            else:
                col.get(where={"user_id": user}, include=["metadatas", "documents"])
            counts["calls"] += 1
            if seed == 0 and counts["calls"] % 500 == 0:
                counts["cycles"] = counts["calls"]
                progress.write_text(json.dumps(counts))

    target = {"eval": eval_worker, "threads": thread_worker, "first-write": first_write_worker}[args.pattern]
    workers = [threading.Thread(target=target, args=(i,))
               for i in range(args.threads if args.pattern == "threads" else 1)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    counts["cycles"] = counts["cycles"] or counts["calls"]
    progress.write_text(json.dumps(counts))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mrrec_lab.chroma_churn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pattern", choices=("eval", "threads", "first-write"), default="eval")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--path", default="runs/chroma-churn/store", help="embedded store directory (fresh)")
    parser.add_argument("--host", default="", help="a Chroma server instead of the embedded store")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    import shutil

    path = Path(args.path)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "mrrec_lab.chroma_churn", "--child", *(argv or sys.argv[1:])],
                          capture_output=True, text=True, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    progress = json.loads((path / "progress.json").read_text()) if (path / "progress.json").exists() else {}
    result = {"pattern": args.pattern, "threads": args.threads if args.pattern == "threads" else 1,
              "store": "server" if args.host else "embedded", "seconds": round(time.time() - started, 1),
              "returncode": proc.returncode, "crashed": proc.returncode != 0, **progress,
              "stderr_tail": proc.stderr[-3000:]}
    print(json.dumps(result, indent=1))
    return 0 if not result["crashed"] else 1


if __name__ == "__main__":
    sys.exit(main())
