"""Memory read bandwidth of this machine, measured the way decoding reads weights.

Decoding one token of a small LLM reads every weight once, so tokens/s is bounded by
read bandwidth / bytes of weights read per token. We measure read bandwidth by summing a large
array (default 1 GiB, far larger than any cache) with numpy, on 1 thread and on all cores
(numpy reductions release the GIL, so threads over disjoint slices run in parallel), best of 5.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def read_bandwidth(size_bytes: int = 1 << 30, repeats: int = 5, threads: int | None = None) -> dict[str, float]:
    """Best-of-`repeats` read bandwidth in GB/s (1e9 bytes/s), single-threaded and on `threads`."""
    threads = threads or os.cpu_count() or 1
    array = np.ones(size_bytes // 4, dtype=np.float32)  # written once, so every page is resident
    chunks = np.array_split(array, threads)

    def one_thread() -> float:
        started = time.perf_counter()
        float(array.sum(dtype=np.float32))
        return time.perf_counter() - started

    with ThreadPoolExecutor(threads) as pool:
        def all_threads() -> float:
            started = time.perf_counter()
            list(pool.map(lambda chunk: float(chunk.sum(dtype=np.float32)), chunks))
            return time.perf_counter() - started

        single = min(one_thread() for _ in range(repeats))
        multi = min(all_threads() for _ in range(repeats))
    gb = array.nbytes / 1e9
    del array, chunks
    return {"bytes": float(size_bytes), "threads": float(threads),
            "gb_s_1_thread": gb / single, "gb_s_all_threads": gb / multi,
            "gb_s": max(gb / single, gb / multi)}


if __name__ == "__main__":
    print(read_bandwidth())
