"""Read the lists the app recommends, as a person would (no score: the lists themselves).

    python -m mrrec_lab.lists                          # new users, 25 varied requests, no LLM
    python -m mrrec_lab.lists --users new,42,1         # also dataset users 42 and 1 (ml-100k ids)
    python -m mrrec_lab.lists --llm-backend onnx       # with the default LLM (slower)
    python -m mrrec_lab.lists --out results/lists/now.md
    python -m mrrec_lab.lists --text "a spy film" --text "ein lustiger Film"   # your own requests
    python -m mrrec_lab.lists --chat "a comedy | something else | any older ones?"   # a conversation

Each request runs through `Assistant.chat` like the app's (a fresh user id for "new"), and the top
five are printed with their genres, the card's reason and any notice. The fit set measures whether
lists keep the request's constraints; this is for what it cannot: whether a list is one a person
would pick.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mrrec_chat.agent import events as ev
from mrrec_chat.config import Settings

REQUESTS = [
    "Something like Star Wars but a bit darker.",
    "A war movie that is more about people than battles.",
    "A slow, beautiful drama about family.",
    "A classic film noir with a great detective.",
    "What's a good date-night movie?",
    "I can't stand horror. What should I watch tonight?",
    "Any good westerns? Not too long please.",
    "Recommend an animated film that adults will enjoy too.",
    "A feel-good comedy for a family movie night",
    "something like The Matrix but less violent",
    "A tense crime thriller for tonight",
    "Give me a mind-bending sci-fi film.",
    "a scary movie that isn't just gore",
    "an epic historical film",
    "a heist movie",
    "a quirky indie comedy",
    "a tearjerker",
    "an underrated 70s film",
    "a musical for the whole family",
    "a courtroom drama",
    "something with a strong female lead",
    "a road movie",
    "best sci-fi of the 80s",
    "a movie about space exploration",
    "a romantic film set in Paris",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mrrec_lab.lists", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default="new", help="comma-separated: 'new' (a fresh user) or dataset user ids")
    parser.add_argument("--requests", type=int, nargs="*", help="indices into the request list (default: all)")
    parser.add_argument("--text", action="append", default=[],
                        help="a request of your own (repeatable); replaces the built-in list")
    parser.add_argument("--chat", action="append", default=[],
                        help='a conversation, messages separated by " | " (repeatable), run as the UI runs one: '
                             'each turn gets the earlier messages and the items listed before')
    parser.add_argument("--out", help="also write the lists to this markdown file")
    Settings.add_arguments(parser.add_argument_group("settings (as for app.py)"))
    args = parser.parse_args(argv)
    from mrrec_chat.service import Assistant

    settings = Settings.from_args(args)
    if args.llm_backend is None:
        settings.llm_backend = "none"
    scratch = None
    if args.memory_dir is None:
        # a fresh store each run (never the app's): a dataset user's chat writes of one run ("no
        # romance please") would otherwise change the next run's lists
        import tempfile

        scratch = tempfile.TemporaryDirectory(prefix="mrrec-lists-")
        settings.memory_dir = scratch.name
    assistant = Assistant(settings).start()
    requests = args.text or ([REQUESTS[i] for i in args.requests] if args.requests else REQUESTS)
    lines = [f"# Lists ({settings.dataset}, LLM: {settings.llm_backend}, {time.strftime('%Y-%m-%d')})", ""]
    chats = [[m.strip() for m in c.split(" | ") if m.strip()] for c in args.chat] if args.chat \
        else [[r] for r in requests]
    for user in args.users.split(","):
        for messages in chats:
            user_id = assistant.new_user_id() if user == "new" else user
            earlier: list[str] = []
            shown: list[list[str]] = []
            for request in messages:
                turn = ev.collect(assistant.chat(user_id, request, list(earlier), shown=list(shown)))
                earlier.append(request)
                shown.append([r.item.item_id for r in turn.items])
                lines.append(f"## [{user}] … → {request}" if len(earlier) > 1 else f"## [{user}] {request}")
                lines += [f"- _notice:_ {n.text}" for n in turn.notices]
                lines += [f"{k}. {r.item.display_title} [{'|'.join(r.item.categories)}] — {r.reason}"
                          for k, r in enumerate(turn.items[:5], 1)]
                lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    assistant.close()
    if scratch is not None:
        scratch.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
