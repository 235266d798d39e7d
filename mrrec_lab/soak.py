"""Soak benchmark: the real app server, driven by concurrent simulated users for a bounded time.

    # 10 minutes, 8 users, embedded store (LLM off so that turns are cheap; see below)
    python -m mrrec_lab.soak --duration 600 --users 8 --out results/soak

    # the same against a Chroma server: one started here (`chroma run`), or one already running
    python -m mrrec_lab.soak --duration 600 --start-chroma --out results/soak
    python -m mrrec_lab.soak --chroma-host 127.0.0.1 --chroma-port 8001

What it does: writes a small generated catalog (or uses --dataset DIR), starts `python app.py`
on it with its own memory directory, and runs --users threads, each with its own
`gradio_client.Client` and its own user id, in a loop of chat turns (/recommend) and memory
operations (/memory_add, /memory_edit, /memory_delete, /feedback, /memory_search, /memory,
/export, /forget) chosen at random with fixed weights. Every acknowledged write goes into a
model of what that user's memory must hold. It records every call (latency, ok/error), samples
the server's RSS (and the Chroma server's), and watches the server process: a crash (any exit,
e.g. -11 for a segfault) is counted, its log tail kept, and the server restarted on the same
store. At the end every user's memory is compared with the model (entries acknowledged and not
deleted must be there with their last acknowledged text, or superseded by a later write of the
same user; deleted or forgotten entries must be absent); then the server is killed with SIGKILL,
restarted, and the comparison repeated (durability).

Outputs in --out: soak-<store>.json (the summary) and soak-<store>.png (throughput, latency
p50/p95 per window, RSS over time); the catalog, the store and the server logs stay in
--work (runs/soak-work/<store>/, git-ignored). Default LLM backend: none (the deterministic fallback turn), which exercises
memory, grounding and write-back at full speed; --llm-backend onnx runs the model.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

# Operation mix (relative weights). Turns are about one call in six, as in the targets
# (>= 2,000 turns and >= 10,000 memory operations).
# /forget is rare (about one call in 200), so that memories grow and the final check has weight.
WEIGHTS = {"turn": 17, "add": 22, "edit": 14, "delete": 9, "feedback": 10, "search": 14, "list": 8,
           "export": 4, "forget": 0.5}
REQUESTS = ["A tense crime thriller for tonight", "Something funny and light for a family evening",
            "A sci-fi movie with a twist", "An old western, please", "A romantic comedy from the 90s",
            "Something like Heat but shorter", "A scary film that is not too gory",
            "A war drama based on a true story", "Any animated film for kids?", "A slow, thoughtful drama"]
PLACES = ["Iceland", "Lisbon", "Patagonia", "Kyoto", "Marseille", "the Yukon", "Tangier", "Tasmania",
          "Oaxaca", "Tromso", "Zanzibar", "Galway", "Bhutan", "Valparaiso", "Sicily", "Lapland"]
GENRES = ["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Thriller", "Western", "Animation", "War"]
WORDS = ["River", "Night", "Stone", "Echo", "Harbor", "Signal", "Orchard", "Lantern", "Mirror", "Falcon",
         "Copper", "Winter", "Velvet", "Summit", "Ember", "Tide"]


# --- the dataset ---------------------------------------------------------------------------------
def write_catalog(directory: Path, n_items: int = 400, n_users: int = 40, seed: int = 0) -> Path:
    """A generated generic-JSONL catalog (no data from elsewhere): items with genres and years,
    dataset users with ~30 ratings each."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "items.jsonl", "w", encoding="utf-8") as out:
        for n in range(n_items):
            genres = rng.sample(GENRES, k=rng.randint(1, 3))
            title = f"The {WORDS[n % len(WORDS)]} {WORDS[(n // len(WORDS)) % len(WORDS)]} {n}"
            out.write(json.dumps({"item_id": str(n), "title": title, "categories": genres,
                                  "year": 1950 + rng.randint(0, 70), "tags": [g.lower() for g in genres]}) + "\n")
    with open(directory / "interactions.jsonl", "w", encoding="utf-8") as out:
        for u in range(n_users):
            for n in rng.sample(range(n_items), k=30):
                out.write(json.dumps({"user_id": f"d{u}", "item_id": str(n), "rating": rng.randint(1, 5),
                                      "timestamp": 1_500_000_000 + rng.randint(0, 10**8)}) + "\n")
    return directory


# --- processes -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int | None) -> float | None:
    """Resident set size of one process in MiB (from /proc), or None once it is gone."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Server:
    """A process we start (the app, or `chroma run`), its output appended to a log file."""

    def __init__(self, args: list[str], log_path: Path, ready: str, env: dict[str, str] | None = None):
        self.args, self.log_path, self.ready, self.env = args, log_path, ready, env
        self.proc: subprocess.Popen | None = None
        self.starts: list[float] = []

    def start(self, timeout: float = 600) -> "Server":
        started = time.perf_counter()
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                     env=self.env, start_new_session=True)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.args[1]} exited with {self.proc.returncode} while starting:\n{self.tail()}")
            if self.ready.startswith("http"):
                try:
                    with urllib.request.urlopen(self.ready, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
            elif self.ready in self._new_output():
                break
            time.sleep(0.5)
        else:
            self.kill()
            raise RuntimeError(f"{self.args[1]} did not start within {timeout:.0f} s:\n{self.tail()}")
        self.starts.append(time.perf_counter() - started)
        return self

    def _new_output(self) -> str:
        with open(self.log_path, "rb") as handle:
            handle.seek(self._log_start)
            return handle.read().decode("utf-8", "replace")

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_bytes()[-chars:].decode("utf-8", "replace")
        except OSError:
            return ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


# --- one simulated user -----------------------------------------------------------------------------
@dataclass
class Call:
    t: float  # seconds since the soak started (when the call began)
    op: str
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class UserModel:
    """What this user's memory must hold, from acknowledged writes only."""

    user_id: str
    expected: dict[str, str] = field(default_factory=dict)  # memory id -> last acknowledged text
    feedback_ids: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    forgotten: set[str] = field(default_factory=set)  # ids acknowledged before a forget
    notes: int = 0
    recommended: list[str] = field(default_factory=list)

    def written(self, memory_id: str) -> None:
        """An acknowledged write of `memory_id` (ids can repeat: feedback on the same item keeps
        one behavior record id, also after a delete or a forget)."""
        self.deleted.discard(memory_id)
        self.forgotten.discard(memory_id)


class SimulatedUser(threading.Thread):
    def __init__(self, index: int, soak: "Soak"):
        super().__init__(name=f"user-{index}", daemon=True)
        self.soak = soak
        self.rng = random.Random(soak.seed * 1000 + index)
        # Half new users, half dataset users (their memory is built from their ratings on first use).
        self.model = UserModel(f"soak{index}-{soak.run_id}" if index % 2 == 0 else f"d{index}")
        self.calls: list[Call] = []
        self.client = None

    def _connect(self):
        from gradio_client import Client

        while not self.soak.stopping.is_set():
            try:
                self.client = Client(self.soak.url, verbose=False)
                return
            except Exception:  # noqa: BLE001 - the server may be restarting
                time.sleep(1.0)

    def call(self, op: str, *args: Any, api: str) -> Any:
        started = time.perf_counter()
        t = started - self.soak.t0
        try:
            result = self.client.predict(*args, api_name=api)
        except Exception as exc:  # noqa: BLE001 - counted; the loop goes on
            self.calls.append(Call(t, op, time.perf_counter() - started, False, f"{type(exc).__name__}: {exc}"[:300]))
            self.soak.server_trouble.wait(0)  # let the monitor notice a dead server
            time.sleep(0.5)
            try:
                self._connect()
            except Exception:  # noqa: BLE001
                pass
            return None
        seconds = time.perf_counter() - started
        if isinstance(result, str):
            try:
                parsed = json.loads(result)
            except json.JSONDecodeError:
                parsed = None
        else:
            parsed = result
        error = parsed.get("error") if isinstance(parsed, dict) else None
        self.calls.append(Call(t, op, seconds, error is None, str(error)[:300] if error else ""))
        return None if error else parsed

    def run(self) -> None:
        self._connect()
        ops, weights = zip(*self.soak.weights.items())
        while not self.soak.stopping.is_set():
            getattr(self, "op_" + self.rng.choices(ops, weights)[0])()

    # --- operations -------------------------------------------------------------------------
    def op_turn(self) -> None:
        result = self.call("turn", self.model.user_id, self.rng.choice(REQUESTS), api="/recommend")
        if result is not None:
            items = [i["item_id"] for i in result.get("items", [])]
            if not items:
                self.calls[-1].ok, self.calls[-1].error = False, "a turn recommended nothing"
            self.model.recommended = items or self.model.recommended

    def op_add(self) -> None:
        self.model.notes += 1
        text = f"Note {self.model.notes}: I like films set in {self.rng.choice(PLACES)}."
        result = self.call("add", self.model.user_id, text, api="/memory_add")
        if result is not None:
            self.model.expected[result["entry"]["memory_id"]] = result["entry"]["text"]
            self.model.written(result["entry"]["memory_id"])

    def _own_entry(self) -> str | None:
        ids = sorted(self.model.expected)
        return self.rng.choice(ids) if ids else None

    def op_edit(self) -> None:
        memory_id = self._own_entry()
        if memory_id is None:
            return self.op_add()
        text = f"{self.model.expected[memory_id].rstrip('.')} (edited {self.rng.randint(0, 10**6)})."
        result = self.call("edit", self.model.user_id, memory_id, text, api="/memory_edit")
        if result is not None:
            self.model.expected[memory_id] = result["entry"]["text"]
        elif self.calls[-1].error and "superseded" in self.calls[-1].error:
            self.calls[-1].ok = True  # a correct refusal: a later write of this user replaced it

    def op_delete(self) -> None:
        memory_id = self._own_entry()
        if memory_id is None:
            return self.op_search()
        if self.call("delete", self.model.user_id, memory_id, api="/memory_delete") is not None:
            self.model.expected.pop(memory_id, None)
            self.model.deleted.add(memory_id)

    def op_feedback(self) -> None:
        item = self.rng.choice(self.model.recommended) if self.model.recommended else str(self.rng.randrange(400))
        result = self.call("feedback", self.model.user_id, item, self.rng.choice(["up", "down", "seen"]),
                           api="/feedback")
        if result is not None:
            self.model.feedback_ids.add(result["entry"]["memory_id"])
            self.model.written(result["entry"]["memory_id"])

    def op_search(self) -> None:
        self.call("search", self.model.user_id, f"films set in {self.rng.choice(PLACES)}", 5, api="/memory_search")

    def op_list(self) -> None:
        self.call("list", self.model.user_id, api="/memory")

    def op_export(self) -> None:
        self.call("export", self.model.user_id, api="/export")

    def op_forget(self) -> None:
        if self.call("forget", self.model.user_id, api="/forget") is not None:
            self.model.forgotten |= set(self.model.expected) | self.model.feedback_ids | self.model.deleted
            self.model.expected.clear()
            self.model.feedback_ids.clear()
            self.model.deleted.clear()


# --- the soak ----------------------------------------------------------------------------------------
class Soak:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.seed = args.seed
        self.weights = dict(WEIGHTS)
        if args.mix:
            self.weights = {op: float(w) for op, w in (part.split("=") for part in args.mix.split(","))}
            unknown = set(self.weights) - set(WEIGHTS)
            if unknown:
                raise SystemExit(f"--mix: unknown operations {sorted(unknown)}; known: {', '.join(WEIGHTS)}")
        self.run_id = time.strftime("%H%M%S")
        self.store = "chroma-server" if (args.chroma_host or args.start_chroma) else "embedded"
        self.out = Path(args.out)
        self.work = Path(args.work) / self.store
        self.stopping = threading.Event()
        self.server_trouble = threading.Event()
        self.crashes: list[dict[str, Any]] = []
        self.rss: list[tuple[float, float | None, float | None]] = []  # (t, app MiB, chroma MiB)
        self.t0 = time.perf_counter()
        self.app: Server | None = None
        self.chroma: Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start_servers(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        dataset = Path(self.args.dataset) if self.args.dataset else write_catalog(self.work / "catalog")
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False",
               "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
               "PYTHONFAULTHANDLER": "1"}  # a segfault prints every thread's Python stack to the log
        env.pop("SPACE_ID", None)
        chroma_host, chroma_port = self.args.chroma_host, self.args.chroma_port
        if self.args.start_chroma:
            chroma_host, chroma_port = "127.0.0.1", free_port()
            chroma = str(Path(sys.executable).parent / "chroma")
            self.chroma = Server([chroma, "run", "--path", str(self.work / "chroma"), "--host", chroma_host,
                                  "--port", str(chroma_port)], self.work / "chroma.log",
                                 f"http://{chroma_host}:{chroma_port}/api/v2/heartbeat", env).start(120)
        self.port = free_port()
        args = [sys.executable, str(REPO_ROOT / "app.py"), "--dataset", str(dataset), "--memory-dir",
                str(self.work / "store"), "--llm-backend", self.args.llm_backend, "--llm-adapter", "none",
                "--host", "127.0.0.1", "--port", str(self.port)]
        if chroma_host:
            args += ["--chroma-host", chroma_host, "--chroma-port", str(chroma_port)]
        self.app = Server(args, self.work / "app.log", "Running on local URL", env).start()

    def monitor(self) -> None:
        """Sample RSS every few seconds; restart the app if it died (and count the crash)."""
        while not self.stopping.wait(self.args.sample_seconds):
            t = time.perf_counter() - self.t0
            self.rss.append((round(t, 1), rss_mb(self.app.pid), rss_mb(self.chroma.pid if self.chroma else None)))
            for name, server in (("app", self.app), ("chroma", self.chroma)):
                if server is not None and server.proc is not None and server.proc.poll() is not None:
                    code = server.proc.returncode
                    self.crashes.append({"t": round(t, 1), "process": name, "returncode": code,
                                         "signal": signal.Signals(-code).name if code < 0 else None,
                                         "log_tail": server.tail(4000)})
                    print(f"[soak] {name} exited with {code} at {t:.0f} s; restarting", flush=True)
                    self.server_trouble.set()
                    server.start()
                    self.server_trouble.clear()

    def check_memory(self, users: list[SimulatedUser]) -> dict[str, Any]:
        """Compare every user's memory (through the API) with what was acknowledged."""
        from gradio_client import Client

        client = Client(self.url, verbose=False)
        problems: list[str] = []
        counts = Counter()
        for user in users:
            m = user.model
            current = {e["memory_id"]: e for e in json.loads(client.predict(m.user_id, api_name="/memory"))}
            exported = json.loads(client.predict(m.user_id, api_name="/export"))
            everything = {e["memory_id"]: e for e in exported.get("entries", [])}
            for memory_id, text in m.expected.items():
                counts["acknowledged_entries"] += 1
                if memory_id in current:
                    if current[memory_id]["text"] != text:
                        problems.append(f"{m.user_id} {memory_id}: text {current[memory_id]['text']!r}, acknowledged {text!r}")
                    else:
                        counts["present"] += 1
                elif memory_id in everything and everything[memory_id].get("status") != "current":
                    counts["superseded_by_a_later_write"] += 1
                else:
                    problems.append(f"{m.user_id} {memory_id}: acknowledged, not deleted, but missing")
            for memory_id in m.feedback_ids:
                counts["feedback_entries"] += 1
                if memory_id not in everything:
                    problems.append(f"{m.user_id} {memory_id}: acknowledged feedback missing")
            for memory_id in m.deleted:
                counts["deleted_entries"] += 1
                if memory_id in current:
                    problems.append(f"{m.user_id} {memory_id}: deleted but still current")
            for memory_id in m.forgotten:
                counts["forgotten_entries"] += 1
                if memory_id in everything:
                    problems.append(f"{m.user_id} {memory_id}: forgotten but still stored")
        return {"ok": not problems, "problems": problems[:50], "problem_count": len(problems), **counts}

    def run(self) -> dict[str, Any]:
        print(f"[soak] starting the app ({self.store} store, llm backend {self.args.llm_backend}) ...", flush=True)
        self.start_servers()
        print(f"[soak] app ready in {self.app.starts[0]:.1f} s at {self.url}; {self.args.users} users for "
              f"{self.args.duration:.0f} s", flush=True)
        self.t0 = time.perf_counter()
        users = [SimulatedUser(i, self) for i in range(self.args.users)]
        monitor = threading.Thread(target=self.monitor, daemon=True)
        monitor.start()
        for user in users:
            user.start()
        last = 0.0
        while (elapsed := time.perf_counter() - self.t0) < self.args.duration:
            time.sleep(min(5.0, self.args.duration - elapsed))
            if elapsed - last >= 60:
                last = elapsed
                calls = sum(len(u.calls) for u in users)
                errors = sum(not c.ok for u in users for c in u.calls)
                print(f"[soak] {elapsed:5.0f} s: {calls} calls, {errors} errors, {len(self.crashes)} crashes, "
                      f"app RSS {rss_mb(self.app.pid) or 0:.0f} MiB", flush=True)
        self.stopping.set()
        for user in users:
            user.join(timeout=120)
        monitor.join(timeout=60)
        soak_seconds = time.perf_counter() - self.t0
        print("[soak] checking every user's memory against what was acknowledged ...", flush=True)
        consistency = self.check_memory(users)
        durability: dict[str, Any] = {"skipped": True}
        if not self.args.no_kill_check:
            print("[soak] kill -9 the app, restart it, check again ...", flush=True)
            self.app.kill()
            self.app.start()
            durability = self.check_memory(users)
            durability["restart_seconds"] = round(self.app.starts[-1], 1)
        calls = [c for u in users for c in u.calls]
        summary = self.summarise(calls, soak_seconds, consistency, durability, users)
        self.app.stop()
        if self.chroma is not None:
            self.chroma.stop()
        return summary

    def summarise(self, calls: list[Call], seconds: float, consistency: dict, durability: dict,
                  users: list[SimulatedUser]) -> dict[str, Any]:
        by_op = Counter(c.op for c in calls)
        errors = [c for c in calls if not c.ok]
        window = self.args.window
        windows = []
        for start in range(0, int(seconds) + 1, window):
            inside = [c for c in calls if start <= c.t < start + window]
            if not inside:
                continue
            row: dict[str, Any] = {"start_s": start, "calls": len(inside), "errors": sum(not c.ok for c in inside)}
            for kind, chosen in (("turn", [c for c in inside if c.op == "turn"]),
                                 ("memory", [c for c in inside if c.op != "turn"])):
                row[kind] = _percentiles([c.seconds for c in chosen])
            windows.append(row)
        rss = [(t, a) for t, a, _ in self.rss if a is not None]
        warm = [a for t, a in rss if t >= min(60.0, seconds / 5)]
        return {
            "store": self.store,
            "llm_backend": self.args.llm_backend,
            "users": self.args.users,
            "mix": self.weights,
            "duration_s": round(seconds, 1),
            "app_start_s": [round(s, 1) for s in self.app.starts],
            "turns": by_op["turn"],
            "memory_ops": sum(n for op, n in by_op.items() if op != "turn"),
            "calls_by_op": dict(by_op),
            "errors": len(errors),
            "errors_by_op": dict(Counter(c.op for c in errors)),
            "error_examples": sorted({c.error for c in errors})[:10],
            "crashes": self.crashes,
            "latency_all": {"turn": _percentiles([c.seconds for c in calls if c.op == "turn"]),
                            "memory": _percentiles([c.seconds for c in calls if c.op != "turn"]),
                            **{op: _percentiles([c.seconds for c in calls if c.op == op]) for op in sorted(by_op)}},
            "windows": windows,
            "rss_mb": {"app_first": rss[0][1] if rss else None, "app_last": rss[-1][1] if rss else None,
                       "app_max": max(a for _, a in rss) if rss else None,
                       "app_after_warmup_min": min(warm) if warm else None,
                       "app_after_warmup_max": max(warm) if warm else None,
                       "chroma_first": next((c for _, _, c in self.rss if c is not None), None),
                       "chroma_last": next((c for _, _, c in reversed(self.rss) if c is not None), None),
                       "samples": self.rss},
            "consistency": consistency,
            "after_kill_9_restart": durability,
            "entries_per_user_at_end": {u.model.user_id: len(u.model.expected) for u in users},
            "machine": {"cpus": os.cpu_count(), "load_avg_at_end": os.getloadavg()},
        }


def _percentiles(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)
    return {"n": len(values), "p50_ms": pick(0.5), "p95_ms": pick(0.95), "max_ms": round(ordered[-1] * 1000, 1),
            "mean_ms": round(statistics.fmean(values) * 1000, 1)}


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    windows = summary["windows"]
    minutes = [w["start_s"] / 60 for w in windows]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), dpi=80)
    ax = axes[0][0]
    ax.bar(minutes, [w["calls"] / summary_window(summary) for w in windows], width=0.8 * summary_window(summary) / 60,
           align="edge", label="calls/s")
    ax.bar(minutes, [w["errors"] / summary_window(summary) for w in windows], width=0.8 * summary_window(summary) / 60,
           align="edge", color="tab:red", label="errors/s")
    ax.set_title("Throughput")
    ax.legend(fontsize=8)
    for ax, kind, title in ((axes[0][1], "turn", "Chat turn latency"), (axes[1][0], "memory", "Memory op latency")):
        for q, style in (("p50_ms", "-o"), ("p95_ms", "--o")):
            ax.plot([m for m, w in zip(minutes, windows) if w[kind].get("n")],
                    [w[kind][q] for w in windows if w[kind].get("n")], style, markersize=3, label=q[:3])
        ax.set_title(title)
        ax.set_ylabel("ms")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    ax = axes[1][1]
    samples = summary["rss_mb"]["samples"]
    ax.plot([t / 60 for t, a, _ in samples if a is not None], [a for _, a, _ in samples if a is not None], label="app")
    if any(c is not None for _, _, c in samples):
        ax.plot([t / 60 for t, _, c in samples if c is not None], [c for _, _, c in samples if c is not None],
                label="chroma server")
    for crash in summary["crashes"]:
        ax.axvline(crash["t"] / 60, color="tab:red")
    ax.set_title("Server RSS")
    ax.set_ylabel("MiB")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    for ax in axes[1]:
        ax.set_xlabel("minutes")
    fig.suptitle(f"Soak, {summary['store']} store, {summary['users']} users, LLM {summary['llm_backend']}: "
                 f"{summary['turns']} turns, {summary['memory_ops']} memory ops, {summary['errors']} errors, "
                 f"{len(summary['crashes'])} crashes", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def summary_window(summary: dict[str, Any]) -> float:
    return float(summary.get("window_s", 60))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mrrec_lab.soak", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    parser.add_argument("--users", type=int, default=8, help="concurrent simulated users (default 8)")
    parser.add_argument("--out", default="runs/soak", help="output directory (results/soak to publish)")
    parser.add_argument("--work", default="runs/soak-work",
                        help="scratch directory: catalog, store, server logs (default runs/soak-work, git-ignored)")
    parser.add_argument("--dataset", help="dataset directory for the app (default: a generated 400-item catalog)")
    parser.add_argument("--llm-backend", default="none", help="the app's LLM backend (default none: no model)")
    parser.add_argument("--chroma-host", default="", help="use this Chroma server instead of the embedded store")
    parser.add_argument("--chroma-port", type=int, default=8000)
    parser.add_argument("--start-chroma", action="store_true", help="start a Chroma server (`chroma run`) for the soak")
    parser.add_argument("--mix", default="", help="operation weights, e.g. list=1 or turn=1,add=3 "
                        f"(default {','.join(f'{k}={v:g}' for k, v in WEIGHTS.items())})")
    parser.add_argument("--window", type=int, default=60, help="seconds per latency window (default 60)")
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="RSS sampling period (default 5)")
    parser.add_argument("--no-kill-check", action="store_true", help="skip the kill -9 + restart durability check")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    soak = Soak(args)
    try:
        summary = soak.run()
    except (RuntimeError, OSError) as exc:
        print(f"[soak] could not run: {exc}", file=sys.stderr)
        for server in (soak.app, soak.chroma):
            if server is not None:
                server.stop()
        return 2
    except BaseException:
        for server in (soak.app, soak.chroma):
            if server is not None:
                server.kill()
        raise
    summary["window_s"] = args.window
    soak.out.mkdir(parents=True, exist_ok=True)
    name = f"soak-{summary['store']}"
    (soak.out / f"{name}.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    plot(summary, soak.out / f"{name}.png")
    lat = summary["latency_all"]
    print(f"[soak] {summary['store']}: {summary['turns']} turns, {summary['memory_ops']} memory ops in "
          f"{summary['duration_s']:.0f} s; {summary['errors']} errors; {len(summary['crashes'])} crashes; "
          f"turn p50/p95 {lat['turn'].get('p50_ms')}/{lat['turn'].get('p95_ms')} ms; memory op p50/p95 "
          f"{lat['memory'].get('p50_ms')}/{lat['memory'].get('p95_ms')} ms; app RSS "
          f"{summary['rss_mb']['app_first']:.0f} -> {summary['rss_mb']['app_last']:.0f} MiB; consistency "
          f"{'OK' if summary['consistency']['ok'] else 'FAILED'}, after kill -9 "
          f"{'OK' if summary['after_kill_9_restart'].get('ok', True) else 'FAILED'}", flush=True)
    print(f"[soak] wrote {soak.out / (name + '.json')} and {soak.out / (name + '.png')}")
    return 0 if summary["consistency"]["ok"] and summary["after_kill_9_restart"].get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
