"""Terminal chat and transcript printer: `python -m mrrec_chat.cli --user 196 "a tense thriller"`.

Without a message it starts an interactive prompt. Each turn is printed as a transcript:
request -> reasoning steps -> memory tool calls with the retrieved memory ids -> profile -> items.
Accepts every Settings flag (see README "Configuration").
"""

from __future__ import annotations

import argparse
import sys

from mrrec_chat.agent import events as ev
from mrrec_chat.config import Settings


def print_turn(assistant, user_id: str, message: str, earlier: list[str], out=sys.stdout) -> None:
    print(f"\n### {user_id}: {message}", file=out)
    for event in assistant.chat(user_id, message, earlier):
        if isinstance(event, ev.GlobalMemoryUsed):
            print("global memory: " + ", ".join(m.memory_id for m in event.memories), file=out)
        elif isinstance(event, ev.ReasoningStep):
            print(f"[round {event.round}] reasoning ({event.completion_tokens} tok, {event.seconds:.1f}s): "
                  f"{event.thought or '(none)'}", file=out)
        elif isinstance(event, ev.ToolCall):
            print(f"[round {event.round}] memory search{' (automatic)' if event.fallback else ''}: "
                  + " ; ".join(event.queries), file=out)
        elif isinstance(event, ev.MemoriesRetrieved):
            for memory in event.memories:
                print(f"    -> {memory.memory_id}  {memory.entry.text[:100]}", file=out)
        elif isinstance(event, ev.FinalAnswer):
            print(f"profile ({'fallback' if event.fallback else 'model'}): {event.ideal_item_profile[:300]}", file=out)
            print("cited: " + ", ".join(event.useful_memory_ids), file=out)
        elif isinstance(event, ev.ItemsRecommended):
            for n, rec in enumerate(event.items, 1):
                print(f"  {n}. {rec.item.display_title} — {rec.reason}", file=out)
        elif isinstance(event, ev.Notice):
            print(f"note: {event.text}", file=out)
        elif isinstance(event, ev.TurnDone):
            s = event.stats
            print(f"turn: {s.seconds_total:.1f}s, {s.llm_calls} LLM calls, {s.generated_tokens} generated tokens, "
                  f"{s.memory_tokens} memory tokens", file=out)
        elif isinstance(event, ev.MemoryWritten):
            print(f"memory written: +{len(event.added)} reinforced {len(event.reinforced)} "
                  f"superseded {len(event.superseded)}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("message", nargs="*", help="one or more messages (each is a turn); none = interactive")
    parser.add_argument("--user", default="", help="dataset user id, or empty for a new user")
    Settings.add_arguments(parser)
    args = parser.parse_args(argv)
    from mrrec_chat.service import Assistant

    assistant = Assistant(Settings.from_args(args)).start()
    user_id = args.user or assistant.new_user_id()
    earlier: list[str] = []
    messages = args.message
    try:
        if messages:
            for message in messages:
                print_turn(assistant, user_id, message, earlier)
                earlier.append(message)
        else:
            print(f"Chatting as {user_id}. Empty line or Ctrl-D to quit.")
            for line in sys.stdin:
                if not line.strip():
                    break
                print_turn(assistant, user_id, line.strip(), earlier)
                earlier.append(line.strip())
    finally:
        assistant.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
