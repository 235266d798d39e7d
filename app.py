"""MR.Rec Chat entry point: `python app.py [--flags]` (see README "Configuration").

Thin on purpose: parse settings, build the Assistant and the Gradio app, launch. On Hugging Face
Spaces (SPACE_ID set) it listens on 0.0.0.0; memory goes under /data when that exists (config).
While the Assistant starts (a first start downloads and exports the model), a small page on the
app's port says what is loading and reloads itself until the app is there.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


STARTUP_PHASES = [("store", "memory store"), ("dataset", "catalog and ratings"), ("embedder", "embedding model"),
                  ("memory_and_catalog", "memory and catalog index (a first start embeds the catalog)"),
                  ("llm", "language model (a first start downloads and exports it, ~1 minute)")]


# Polls instead of reloading: the port is closed for a moment (~0.3 s) while Gradio takes it over, and
# a reload that fell into that moment would leave the browser on its "unable to connect" page. A failed
# poll just polls again; the chat is loaded once an answer is no longer this page.
_POLL_JS = ("(function poll(){setTimeout(function(){fetch('/',{cache:'no-store'}).then(function(r){return r.text()})"
            ".then(function(t){if(t.indexOf('name=\"mrrec-loading\"')<0){location.reload();return}"
            "document.body.innerHTML=new DOMParser().parseFromString(t,'text/html').body.innerHTML;poll()})"
            ".catch(poll)},1500)})();")


def loading_html(done: dict[str, float], seconds: float) -> str:
    """The page shown while the app starts: each phase done (with its time), loading, or to come."""
    rows, current = [], True
    for key, label in STARTUP_PHASES:
        if key in done:
            rows.append(f"<li>✅ {html.escape(label)} <small>({done[key]:.1f} s)</small></li>")
        elif current:
            rows.append(f"<li>⏳ <strong>{html.escape(label)}</strong> …</li>")
            current = False
        else:
            rows.append(f"<li>· {html.escape(label)}</li>")
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="mrrec-loading" content="1">'
            f'<noscript><meta http-equiv="refresh" content="2"></noscript><script>{_POLL_JS}</script>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>MR.Rec Chat is starting</title>'
            '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;'
            'line-height:1.6}li{list-style:none}</style></head><body><h1>🎬 MR.Rec Chat is starting</h1>'
            f"<p>Loading for {seconds:.0f} s; this page reloads itself and opens the chat when it is ready.</p>"
            f"<ul>{''.join(rows)}</ul></body></html>")


class LoadingPage:
    """A plain HTTP server on the app's port until Gradio takes it over (`stop`)."""

    def __init__(self, host: str, port: int, progress: Callable[[], dict[str, float]]):
        started = time.time()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                body = loading_html(dict(progress()), time.time() - started).encode()
                self.send_response(503 if self.path != "/" else 200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Retry-After", "2")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main(argv: list[str] | None = None) -> int:
    from mrrec_chat.config import Settings

    parser = argparse.ArgumentParser(description="MR.Rec Chat: a memory-and-reasoning recommender chat.")
    Settings.add_arguments(parser)
    settings = Settings.from_args(parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if os.environ.get("SPACE_ID"):  # Hugging Face Spaces routes traffic to 0.0.0.0:7860
        settings.host = "0.0.0.0"
    if not port_is_free(settings.host, settings.port):
        print(f"Port {settings.port} on {settings.host} is already in use. Stop the other program or "
              f"choose another port with --port N (or MRREC_PORT=N).", file=sys.stderr)
        return 2

    from mrrec_chat.memory.store import StoreError
    from mrrec_chat.service import Assistant

    assistant = Assistant(settings)
    # The page first, before Gradio's import (~4 s of a restart's ~9 s to the chat). Importing Gradio in a
    # thread while the assistant starts was tried: no faster (both are mostly Python, one GIL).
    try:
        page = LoadingPage(settings.host, settings.port, lambda: assistant.startup_seconds)
    except OSError:
        page = None  # the port was taken just now: Gradio's launch says so
    else:
        print(f"Starting; http://{settings.host}:{settings.port}/ shows what is loading.", flush=True)
    try:
        from mrrec_chat.ui.app import build_app, launch_kwargs  # Gradio: ~4 s of imports

        try:
            assistant.start()
        except (StoreError, RuntimeError, ValueError) as exc:
            print(f"MR.Rec Chat could not start: {exc}", file=sys.stderr)
            return 1
        print(f"Ready in {sum(assistant.startup_seconds.values()):.1f} s "
              f"({', '.join(f'{k} {v:.1f}s' for k, v in assistant.startup_seconds.items())}).", flush=True)
        demo = build_app(assistant)
    finally:
        if page is not None:
            page.stop()  # the port goes to Gradio right below
    demo.launch(server_name=settings.host, server_port=settings.port, show_error=True,
                footer_links=["api", "settings"], **launch_kwargs())
    return 0


if __name__ == "__main__":
    sys.exit(main())
