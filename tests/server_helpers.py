"""Real servers for the scale-out suites: a Chroma server, `transformers serve`, the app itself.

Not a test module (no `test_` prefix): the server-mode, isolation, concurrency, crash-safety,
bad-input and OpenAI-backend suites import it. Every process is started from this repository's
virtual environment, listens on 127.0.0.1 only, and is stopped by its own pid.

The Chroma server is one per test session (`chroma_server()`, started on first use, stopped at
exit): it starts in ~3 s, and suites that need a clean server call `wipe_chroma()`.
"""

from __future__ import annotations

import atexit
import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def venv_tool(name: str) -> str:
    """Path of a console script of the running interpreter's environment (chroma, transformers)."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"`{name}` is not installed in {BIN}; install requirements.txt first.")
    return found


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers 200, the process dies, or `timeout` passes."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


class OutputPump:
    """Read a process's stdout on a thread, so a chatty process never blocks on a full pipe."""

    def __init__(self, proc: subprocess.Popen, keep: int = 4000):
        self.proc = proc
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._event = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._event:
                self.lines.append(line)
                self._event.notify_all()
        with self._event:
            self._event.notify_all()

    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str, timeout: float) -> bool:
        """True once a line containing `needle` was printed; False on exit or timeout."""
        deadline = time.time() + timeout
        with self._event:
            while True:
                if any(needle in line for line in self.lines):
                    return True
                if self.proc.poll() is not None and not self._thread.is_alive():
                    return False
                left = deadline - time.time()
                if left <= 0:
                    return False
                self._event.wait(min(left, 0.5))


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate one process we started (by its pid), then kill it if it does not stop."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# --- Chroma server ----------------------------------------------------------------------------
class ChromaServer:
    """`chroma run --path DIR --port N` (the chromadb package's own server), on 127.0.0.1."""

    def __init__(self, path: Path, port: int | None = None):
        self.path = Path(path)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.pump: OutputPump | None = None

    def start(self, timeout: float = 60) -> "ChromaServer":
        self.path.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        self.proc = subprocess.Popen(
            [venv_tool("chroma"), "run", "--path", str(self.path), "--host", self.host, "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.pump = OutputPump(self.proc)
        try:
            wait_http(f"http://{self.host}:{self.port}/api/v2/heartbeat", timeout, self.proc)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"chroma run did not start: {exc}\n{self.pump.text()[-3000:]}") from exc
        return self

    def client(self):
        import chromadb

        return chromadb.HttpClient(host=self.host, port=self.port,
                                   settings=chromadb.Settings(anonymized_telemetry=False))

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)


_CHROMA: ChromaServer | None = None
_CHROMA_LOCK = threading.Lock()


def chroma_server() -> ChromaServer:
    """The test session's Chroma server (started on first use, stopped when Python exits)."""
    global _CHROMA
    with _CHROMA_LOCK:
        if _CHROMA is None or _CHROMA.proc is None or _CHROMA.proc.poll() is not None:
            root = Path(tempfile.mkdtemp(prefix="mrrec-chroma-server-"))
            server = ChromaServer(root / "data").start()

            def cleanup(s: ChromaServer = server, r: Path = root) -> None:
                s.stop()
                shutil.rmtree(r, ignore_errors=True)

            atexit.register(cleanup)
            _CHROMA = server
        return _CHROMA


def wipe_chroma(server: ChromaServer) -> None:
    """Delete every collection on the server (tests that need an empty server call this)."""
    client = server.client()
    for collection in client.list_collections():
        client.delete_collection(collection.name)


# --- the app ----------------------------------------------------------------------------------
class AppProcess:
    """`python app.py ...` on a free port, its output pumped, stopped by pid."""

    def __init__(self, args: list[str], env_extra: dict[str, str] | None = None, port: int | None = None):
        self.port = port or free_port()
        self.args = list(args) + ["--port", str(self.port), "--host", "127.0.0.1"]
        self.env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False",
                    "HF_HUB_OFFLINE": "1", **(env_extra or {})}
        self.env.pop("SPACE_ID", None)
        self.proc: subprocess.Popen | None = None
        self.pump: OutputPump | None = None
        self.start_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 300, expect_ready: bool = True) -> "AppProcess":
        started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, str(REPO_ROOT / "app.py"), *self.args], cwd=REPO_ROOT,
                                     env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.pump = OutputPump(self.proc)
        if expect_ready:
            if not self.pump.wait_for("Running on local URL", timeout):
                self.kill()
                raise AssertionError("app did not start:\n" + self.pump.text()[-4000:])
            self.start_seconds = time.perf_counter() - started
        return self

    def wait_exit(self, timeout: float = 300) -> tuple[int, str]:
        """For a start that is expected to fail: (exit code, output)."""
        assert self.proc is not None and self.pump is not None
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("app neither started nor exited:\n" + self.pump.text()[-3000:])
        self.pump._thread.join(timeout=5)
        return code, self.pump.text()

    def client(self):
        from gradio_client import Client

        return Client(self.url, verbose=False)

    def kill(self) -> None:
        """kill -9 (SIGKILL), as a crash would: no cleanup code runs."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)


def app_args(dataset_dir: Path, memory_dir: Path, *, llm: str = "none", chroma: ChromaServer | None = None,
             extra: list[str] | None = None) -> list[str]:
    """Arguments for app.py on the tiny dataset: `llm` is `none` or `local` (small budgets)."""
    args = ["--dataset", str(dataset_dir), "--memory-dir", str(memory_dir), "--llm-adapter", "none"]
    if llm == "none":
        args += ["--llm-backend", "none"]
    else:
        args += ["--llm-backend", "local", "--llm-device", "cpu", "--max-rounds", "1",
                 "--max-new-tokens", "24", "--answer-max-new-tokens", "40"]
    if chroma is not None:
        args += ["--chroma-host", chroma.host, "--chroma-port", str(chroma.port)]
    return args + list(extra or [])


# --- transformers serve -----------------------------------------------------------------------
class TransformersServer:
    """`transformers serve <model dir>` (transformers' own OpenAI-compatible server) on CPU.

    Needs the `openai` package (transformers' serving extra checks for it) besides fastapi and
    uvicorn. The model is pinned (force model), so requests must name it exactly as given here.
    """

    def __init__(self, model_dir: str, port: int | None = None, dtype: str = "bfloat16"):
        self.model_dir = str(model_dir)
        self.port = port or free_port()
        self.dtype = dtype
        self.proc: subprocess.Popen | None = None
        self.pump: OutputPump | None = None
        self.start_seconds = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 240) -> "TransformersServer":
        started = time.perf_counter()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
        self.proc = subprocess.Popen(
            [venv_tool("transformers"), "serve", self.model_dir, "--host", "127.0.0.1", "--port", str(self.port),
             "--device", "cpu", "--dtype", self.dtype, "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
        self.pump = OutputPump(self.proc)
        try:
            wait_http(f"http://127.0.0.1:{self.port}/health", timeout, self.proc)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"transformers serve did not start: {exc}\n{self.pump.text()[-3000:]}") from exc
        self.start_seconds = time.perf_counter() - started
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)


# --- apps shared by several suites --------------------------------------------------------------
_APPS: dict[str, AppProcess] = {}
_APPS_LOCK = threading.Lock()


def shared_app(mode: str, dataset_dir: Path) -> AppProcess:
    """One memory-only app per store mode (`embedded` or `server`) for the whole test session.

    The isolation and bad-input suites both drive it (an app start costs 15-40 s on 2 cores).
    Suites must use their own user ids (a unique suffix), never assume an empty store.
    """
    with _APPS_LOCK:
        app = _APPS.get(mode)
        if app is not None and app.proc is not None and app.proc.poll() is None:
            return app
        chroma = chroma_server() if mode == "server" else None
        root = Path(tempfile.mkdtemp(prefix=f"mrrec-app-{mode}-"))
        app = AppProcess(app_args(dataset_dir, root / "store", llm="none", chroma=chroma)).start()
        app.root = root  # type: ignore[attr-defined]

        def cleanup(a: AppProcess = app, r: Path = root) -> None:
            a.stop()
            shutil.rmtree(r, ignore_errors=True)

        atexit.register(cleanup)
        _APPS[mode] = app
        return app
