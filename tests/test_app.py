"""The real app, launched as a process and driven through gradio_client (api names pinned)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(args: list[str], env_extra: dict[str, str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env_extra or {})}
    return subprocess.Popen([sys.executable, str(REPO_ROOT / "app.py"), *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_ready(proc: subprocess.Popen, timeout: float = 400) -> str:
    lines = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        if "Running on local URL" in line:
            return "".join(lines)
    proc.kill()
    raise AssertionError("app did not start:\n" + "".join(lines[-40:]))


@pytest.fixture(scope="module")
def running_app(tmp_path_factory, tiny_dataset_dir):
    store = tmp_path_factory.mktemp("app") / "store"
    port = free_port()
    args = ["--dataset", str(tiny_dataset_dir), "--memory-dir", str(store), "--port", str(port),
            "--max-rounds", "2", "--max-new-tokens", "48", "--answer-max-new-tokens", "64", "--llm-adapter", "none"]
    proc = launch(args)
    wait_ready(proc)
    yield {"url": f"http://127.0.0.1:{port}/", "port": port, "store": store, "args": args}
    proc.terminate()
    proc.wait(timeout=30)


def test_chat_turn_through_gradio_client(running_app):
    from gradio_client import Client

    client = Client(running_app["url"], verbose=False)
    endpoints = client.view_api(return_format="dict")["named_endpoints"]
    assert {"/recommend", "/memory"} <= set(endpoints)
    result = client.predict("alice", "A gripping crime film, but I hate horror", api_name="/recommend")
    assert result["items"], result
    assert all(item["item_id"] for item in result["items"])
    assert not any("Horror" in item["categories"] for item in result["items"])
    assert all(":alice:" in m or m.startswith("g:") for item in result["items"] for m in item["memory_ids"])
    assert result["memory_written"]["added"]
    memory = client.predict("alice", api_name="/memory")
    assert "Horror" in memory and '"user_id": "alice"' in memory
    # Another user's memory endpoint never shows alice's chat memory.
    assert "alice" not in client.predict("bob", api_name="/memory")
    assert "error" in client.predict("$ne", api_name="/memory")


def test_busy_port_gives_a_clear_message(running_app, tmp_path):
    proc = launch(["--port", str(running_app["port"]), "--memory-dir", str(tmp_path / "other")])
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "already in use" in out


def test_second_process_on_the_same_store_is_refused(running_app):
    args = list(running_app["args"])
    args[args.index("--port") + 1] = str(free_port())
    proc = launch(args)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1 and "Another MR.Rec process" in out
