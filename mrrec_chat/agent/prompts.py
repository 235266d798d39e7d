"""Prompts of the reasoning-retrieval loop (paper §3.2), kept short for small models.

Tool-call format (the paper leaves it open): one assistant turn in which the model writes
`<think>…</think>`, then either `<search>query; query</search>` (generation stops there, the
controller appends `<memory>…</memory>` with the top-k memories per query, and generation
continues) or the final `<answer>{"ideal_item_profile": …, "useful_memory_ids": […]}</answer>`.
"""

from __future__ import annotations

from mrrec_chat.memory.schema import RetrievedMemory

SYSTEM_PROMPT = """You are MR.Rec, a recommendation assistant that remembers each user.
Think briefly in <think></think>. To read the user's memory write <search>aspect query</search> and wait for <memory>. Search about the aspects that matter for this request (genres, liked titles, dislikes, era).
Finally write <answer>{"ideal_item_profile": "description of the ideal item: genres, era, mood, similar titles", "useful_memory_ids": ["ids of memories you used"]}</answer>
Example: <think>They want a thriller; check their taste.</think><search>liked thrillers; disliked genres</search>"""

ANSWER_NOW = ("Now write only the final answer: <answer>{\"ideal_item_profile\": \"...\", "
              "\"useful_memory_ids\": [...]}</answer>")

STOP_AFTER_SEARCH = ["</search>", "<memory>", "</answer>"]


def system_prompt(global_memories: list[RetrievedMemory], domain: str = "movies") -> str:
    prompt = SYSTEM_PROMPT.replace("recommendation assistant", f"{domain} recommendation assistant")
    if global_memories:
        lines = "\n".join(f"- {m.entry.text}" for m in global_memories)
        prompt += f"\nWhat people usually weigh here:\n{lines}"
    return prompt


def user_prompt(request: str, context: list[str] | None = None, constraints: str = "") -> str:
    text = f"Request: {request}"
    if context:
        text = f"Earlier in this chat: {' | '.join(context[-2:])}\n" + text
    if constraints:
        text += f"\nKnown constraints: {constraints}"
    return text


def render_observation(memories: list[RetrievedMemory]) -> str:
    if not memories:
        return "<memory>\n(no memory found: this may be a new user)\n</memory>\n"
    return "<memory>\n" + "\n".join(m.render() for m in memories) + "\n</memory>\n"
