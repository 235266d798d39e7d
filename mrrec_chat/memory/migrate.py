"""Move a memory store between the embedded Chroma store and a Chroma server, counts verified.

    python -m mrrec_chat.memory.migrate --from-dir memory_data/store --to-host 127.0.0.1 --to-port 8001
    python -m mrrec_chat.memory.migrate --from-host 127.0.0.1 --from-port 8001 --to-dir /path/new-store

(directory to directory and server to server work the same way). Every MR.Rec collection (name
starting with `mrrec-`: the memory levels and the catalog, for every dataset) is copied as is —
ids, documents, metadata, embeddings and the index configuration — so nothing is re-embedded and
the app sees exactly the same memory in the new place. Then every collection is verified: the
target's count must equal the source's, and every source entry must be in the target with the
same text, metadata and vector. Exit status 0 only when all of it holds.

Safety:
- An embedded store is opened through `store.make_client`, which takes the store's process lock:
  a running app on that directory makes the migration stop with a clear message (stop the app
  first; a server source should also have no app writing to it, or the counts will not match).
- A target collection that already holds entries is refused (it would mix two stores) unless
  `--merge` is given; with `--merge`, entries with the same id are overwritten by the source's.
- Nothing is deleted from the source, ever.

The audit history (`history.sqlite3`) is not in Chroma; it lives in the app's memory directory
in both modes. A directory-to-directory migration copies it (SQLite backup API, consistent);
otherwise keep `MRREC_MEMORY_DIR` pointing at the directory that holds it.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mrrec_chat.memory.store import StoreError, make_client

PREFIX = "mrrec-"
DEFAULT_BATCH = 1000


class MigrationError(RuntimeError):
    """The migration could not run or did not verify; the message says what to do."""


@dataclass
class CollectionReport:
    name: str
    source: int
    copied: int = 0
    target: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.target >= self.source and self.copied == self.source


@dataclass
class MigrationReport:
    collections: list[CollectionReport]
    seconds: float
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.collections)

    @property
    def total(self) -> int:
        return sum(c.source for c in self.collections)


def _where(directory: str | None, host: str | None, port: int | None) -> str:
    return f"directory {directory}" if directory else f"Chroma server {host}:{port}"


def open_store(directory: str | None = None, host: str | None = None, port: int | None = None, *,
               must_exist: bool = False):
    """(client, lock) for an embedded directory or a server; StoreError with a clear message."""
    if bool(directory) == bool(host):
        raise MigrationError("Give exactly one of a directory or a host for each side.")
    if directory:
        path = Path(directory)
        if must_exist and not (path / "chroma.sqlite3").exists():
            raise MigrationError(f"{path} holds no memory store (no chroma.sqlite3); nothing to migrate.")
        return make_client(str(path))
    return make_client("", chroma_host=str(host), chroma_port=int(port or 8000))


def _configuration(collection) -> dict[str, Any] | None:
    """The index configuration worth copying (distance space and HNSW parameters)."""
    config = getattr(collection, "configuration", None) or {}
    hnsw = config.get("hnsw") if isinstance(config, dict) else None
    if hnsw:
        return {"hnsw": {k: v for k, v in hnsw.items() if v is not None}}
    return None


def _pages(collection, batch: int, include: list[str]):
    offset = 0
    while True:
        page = collection.get(limit=batch, offset=offset, include=include)
        if not page["ids"]:
            return
        yield page
        offset += len(page["ids"])


def _as_list(values) -> list:
    return [] if values is None else list(values)


def migrate(source_client, target_client, *, prefix: str = PREFIX, merge: bool = False, dry_run: bool = False,
            batch: int = DEFAULT_BATCH, log: Callable[[str], None] = print) -> MigrationReport:
    """Copy every collection whose name starts with `prefix`, then verify each one."""
    started = time.perf_counter()
    batch = max(1, min(batch, int(getattr(source_client, "get_max_batch_size", lambda: batch)()),
                       int(getattr(target_client, "get_max_batch_size", lambda: batch)())))
    sources = sorted((c for c in source_client.list_collections() if c.name.startswith(prefix)),
                     key=lambda c: c.name)
    reports: list[CollectionReport] = []
    # Refuse before writing anything: a partly migrated target is worse than none.
    existing = {c.name for c in target_client.list_collections()}
    if not merge:
        busy = [(c.name, target_client.get_collection(c.name).count()) for c in sources if c.name in existing]
        busy = [(name, n) for name, n in busy if n]
        if busy:
            shown = ", ".join(f"{name} ({n})" for name, n in busy[:4])
            raise MigrationError(f"The target already holds entries in {len(busy)} collection(s): {shown}. Migrate "
                                 f"into an empty target, or pass --merge to upsert (same ids are overwritten).")
    for source in sources:
        report = CollectionReport(source.name, source.count())
        reports.append(report)
        if dry_run:
            log(f"  {source.name}: {report.source} entries (dry run, not copied)")
            continue
        kwargs: dict[str, Any] = {"embedding_function": None}
        config = _configuration(source)
        if config:
            kwargs["configuration"] = config
        if source.metadata:
            kwargs["metadata"] = dict(source.metadata)
        target = target_client.get_or_create_collection(source.name, **kwargs)
        for page in _pages(source, batch, ["embeddings", "documents", "metadatas"]):
            target.upsert(ids=page["ids"], embeddings=np.asarray(page["embeddings"], dtype=np.float32),
                          documents=_as_list(page["documents"]) or None,
                          metadatas=[m or None for m in _as_list(page["metadatas"])] or None)
            report.copied += len(page["ids"])
        report.target = target.count()
        verify_collection(source, target, report, batch)
        state = "ok" if report.ok else "MISMATCH: " + "; ".join(report.mismatches[:3])
        log(f"  {source.name}: source {report.source}, copied {report.copied}, target {report.target} — {state}")
    return MigrationReport(reports, time.perf_counter() - started, dry_run)


def verify_collection(source, target, report: CollectionReport, batch: int = DEFAULT_BATCH) -> None:
    """Every source entry is in the target with the same document, metadata and vector."""
    if report.target < report.source:
        report.mismatches.append(f"target has {report.target} entries, source {report.source}")
    seen = 0
    for page in _pages(source, batch, ["embeddings", "documents", "metadatas"]):
        got = target.get(ids=page["ids"], include=["embeddings", "documents", "metadatas"])
        by_id = {i: n for n, i in enumerate(got["ids"])}
        for n, memory_id in enumerate(page["ids"]):
            seen += 1
            if memory_id not in by_id:
                report.mismatches.append(f"{memory_id} missing")
                continue
            m = by_id[memory_id]
            if _as_list(page["documents"])[n] != _as_list(got["documents"])[m]:
                report.mismatches.append(f"{memory_id}: document differs")
            if (_as_list(page["metadatas"])[n] or {}) != (_as_list(got["metadatas"])[m] or {}):
                report.mismatches.append(f"{memory_id}: metadata differs")
            if not np.allclose(np.asarray(page["embeddings"][n], dtype=np.float32),
                               np.asarray(got["embeddings"][m], dtype=np.float32), atol=1e-6):
                report.mismatches.append(f"{memory_id}: embedding differs")
    if seen != report.source:
        report.mismatches.append(f"read {seen} source entries, expected {report.source} (was it written to "
                                 f"during the migration?)")


def copy_history(from_dir: str, to_dir: str, log: Callable[[str], None] = print) -> bool:
    """Copy the audit history between two directories with SQLite's backup API (consistent copy).

    Refuses to overwrite a target history that already has rows.
    """
    source = Path(from_dir) / "history.sqlite3"
    target = Path(to_dir) / "history.sqlite3"
    if not source.exists():
        return False
    if target.exists():
        with sqlite3.connect(str(target)) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            rows = db.execute("SELECT COUNT(*) FROM history").fetchone()[0] if "history" in tables else 0
        if rows:
            log(f"  history: {target} already has {rows} rows; left as is (copy {source} by hand if needed)")
            return False
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    log(f"  history: copied {source} -> {target}")
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mrrec_chat.memory.migrate",
        description="Copy MR.Rec memory between an embedded store (directory) and a Chroma server, "
                    "verifying counts and content per collection.")
    src = parser.add_argument_group("source (one of)")
    src.add_argument("--from-dir", help="embedded store directory (MRREC_MEMORY_DIR)")
    src.add_argument("--from-host", help="Chroma server host (or http(s)://host)")
    src.add_argument("--from-port", type=int, default=8000)
    dst = parser.add_argument_group("target (one of)")
    dst.add_argument("--to-dir", help="embedded store directory (created if missing; must be empty or a store)")
    dst.add_argument("--to-host", help="Chroma server host (or http(s)://host)")
    dst.add_argument("--to-port", type=int, default=8000)
    parser.add_argument("--merge", action="store_true",
                        help="allow a target that already has entries (upsert; same ids are overwritten)")
    parser.add_argument("--dry-run", action="store_true", help="only list what would be copied")
    parser.add_argument("--prefix", default=PREFIX, help="copy collections whose name starts with this")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    return parser


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: 0 migrated and verified, 1 failed or did not verify, 2 bad arguments."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if bool(args.from_dir) == bool(args.from_host) or bool(args.to_dir) == bool(args.to_host):
        parser.print_usage(sys.stderr)
        print("error: give exactly one source (--from-dir or --from-host) and one target (--to-dir or --to-host).",
              file=sys.stderr)
        return 2
    if args.from_dir and args.to_dir and Path(args.from_dir).resolve() == Path(args.to_dir).resolve():
        print("error: source and target are the same directory.", file=sys.stderr)
        return 2
    if args.from_host and args.to_host and (args.from_host, args.from_port) == (args.to_host, args.to_port):
        print("error: source and target are the same server.", file=sys.stderr)
        return 2
    source_name = _where(args.from_dir, args.from_host, args.from_port)
    target_name = _where(args.to_dir, args.to_host, args.to_port)
    locks = []
    try:
        source, lock = open_store(args.from_dir, args.from_host, args.from_port, must_exist=True)
        locks.append(lock)
        target, lock = (None, None) if args.dry_run else open_store(args.to_dir, args.to_host, args.to_port)
        locks.append(lock)
        print(f"Migrating MR.Rec memory from {source_name} to {target_name}"
              + (" (dry run)" if args.dry_run else "") + ":")
        if args.dry_run:
            report = migrate(source, source, prefix=args.prefix, dry_run=True, merge=True, batch=args.batch_size)
        else:
            report = migrate(source, target, prefix=args.prefix, merge=args.merge, batch=args.batch_size)
    except (StoreError, MigrationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for lock in locks:
            if lock is not None:
                lock.release()
    if not report.collections:
        print(f"No MR.Rec collections (prefix {args.prefix!r}) in {source_name}; nothing to do.")
        return 0
    if args.dry_run:
        print(f"{len(report.collections)} collections, {report.total} entries would be copied.")
        return 0
    if args.from_dir and args.to_dir:
        copy_history(args.from_dir, args.to_dir)
    elif args.from_dir:
        print(f"  history: the audit history stays in {args.from_dir}/history.sqlite3; run the app with "
              f"MRREC_MEMORY_DIR={args.from_dir} MRREC_CHROMA_HOST={args.to_host} MRREC_CHROMA_PORT={args.to_port}")
    if report.ok:
        print(f"Verified: {len(report.collections)} collections, {report.total} entries, counts and content "
              f"equal ({report.seconds:.1f} s).")
        return 0
    bad = [c.name for c in report.collections if not c.ok]
    print(f"Verification FAILED for {len(bad)} collection(s): {', '.join(bad)}. The source is unchanged; "
          f"fix the cause (e.g. stop apps writing to the source) and run again with --merge.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
