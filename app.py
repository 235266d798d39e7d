"""MR.Rec Chat entry point: `python app.py [--flags]` (see README "Configuration").

Thin on purpose: parse settings, build the Assistant and the Gradio app, launch. On Hugging Face
Spaces (SPACE_ID set) it listens on 0.0.0.0; memory goes under /data when that exists (config).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

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
    from mrrec_chat.ui.app import build_app, launch_kwargs

    try:
        assistant = Assistant(settings).start()
    except (StoreError, RuntimeError, ValueError) as exc:
        print(f"MR.Rec Chat could not start: {exc}", file=sys.stderr)
        return 1
    print(f"Ready in {sum(assistant.startup_seconds.values()):.1f} s "
          f"({', '.join(f'{k} {v:.1f}s' for k, v in assistant.startup_seconds.items())}).", flush=True)
    build_app(assistant).launch(server_name=settings.host, server_port=settings.port, show_error=True,
                                footer_links=["api", "settings"], **launch_kwargs())
    return 0


if __name__ == "__main__":
    sys.exit(main())
