"""A first start's one-time model export, run in a child process beside the catalog's embedding
(mrrec_chat/llm/prepare.py). The export itself is exercised by test_onnx_backend.py and the
startup benchmark; here: when it runs, and that its failure or interruption changes nothing."""

from __future__ import annotations

import time

from mrrec_chat.config import Settings
from mrrec_chat.llm import prepare


def test_only_a_missing_export_of_the_embedded_model_on_cpu_is_prepared(tmp_path):
    cpu = Settings.from_env(cache_dir=str(tmp_path), llm_backend="onnx", llm_adapter="none", llm_device="cpu")
    assert prepare.needs_preparing(cpu)
    for other in (cpu.replace(llm_backend="local"), cpu.replace(llm_backend="none"),
                  cpu.replace(llm_model=str(tmp_path / "my-model")), cpu.replace(llm_device="cuda")):
        assert not prepare.needs_preparing(other)
    assert prepare.start(cpu.replace(llm_backend="none")) is None  # and starts no process
    # once exported (its directory is complete), a restart prepares nothing
    from mrrec_chat import assets
    from mrrec_chat.llm.onnx_export import embedded_fingerprint

    done = tmp_path / "onnx" / f"SmolLM2-135M-Instruct-int8-{embedded_fingerprint(assets.SMOLLM2_GGUF.sha256)}"
    done.mkdir(parents=True)
    (done / ".complete").write_text("int8 v1\n")
    assert not prepare.needs_preparing(cpu) and prepare.start(cpu) is None


def test_a_failing_preparation_is_silent_and_leaves_the_work_to_build_llm(tmp_path):
    # An unknown quantization makes the child fail at once; the parent does not raise here
    # (build_llm raises the same error, worded as always, when it gets there).
    settings = Settings.from_env(cache_dir=str(tmp_path), llm_backend="onnx", llm_adapter="none",
                                 llm_device="cpu", llm_quantization="nf4")
    child = prepare.Preparation(settings)
    child.wait()
    assert child.proc.returncode == 1
    assert not (tmp_path / "onnx").exists()


def test_stopping_a_preparation_ends_the_child(tmp_path):
    settings = Settings.from_env(cache_dir=str(tmp_path), llm_backend="onnx", llm_adapter="none", llm_device="cpu")
    child = prepare.Preparation(settings)
    time.sleep(0.5)
    started = time.monotonic()
    child.stop()
    assert child.proc.returncode is not None and time.monotonic() - started < 35
    assert not list(tmp_path.glob("onnx/.export-*"))  # nothing half-made left behind


def test_the_embedder_computes_on_one_thread_while_the_child_runs_and_on_its_own_count_after(tmp_path):
    import torch

    settings = Settings.from_env(cache_dir=str(tmp_path), llm_backend="onnx", llm_adapter="none",
                                 llm_device="cpu", llm_quantization="nf4")  # fails at once: nothing to wait for
    before = torch.get_num_threads()
    child = prepare.Preparation(settings)
    with child.one_core():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    child.wait()


def test_a_child_killed_after_the_wait_leaves_no_half_made_export(tmp_path, monkeypatch):
    """A child busy in native code ignores the interrupt (simulated: it ignores SIGINT); `stop`
    kills it after its wait and removes the scratch export it had made."""
    import subprocess
    import sys

    settings = Settings.from_env(cache_dir=str(tmp_path), llm_backend="onnx", llm_adapter="none", llm_device="cpu")
    onnx = tmp_path / "onnx"
    onnx.mkdir()
    older = onnx / ".export-older"  # another process's, made before this one started: kept
    older.mkdir()
    import os
    os.utime(older, (time.time() - 3600, time.time() - 3600))
    script = ("import signal, sys, time, pathlib; signal.signal(signal.SIGINT, signal.SIG_IGN); "
              f"pathlib.Path({str(onnx / '.export-abc')!r}).mkdir(); print('ready', flush=True); time.sleep(60)")
    real_popen = subprocess.Popen
    monkeypatch.setattr(prepare.subprocess, "Popen",
                        lambda *a, **kw: real_popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                                                    stdout=subprocess.PIPE))
    child = prepare.Preparation(settings)
    child.stop_timeout_s = 0.5
    assert child.proc.stdout.readline().strip() == b"ready"
    child.stop()
    assert child.proc.returncode != 0
    assert not (onnx / ".export-abc").exists() and older.exists()
