"""The Assistant: wires settings, dataset, embedder, memory, catalog and LLM into chat turns.

One Assistant is shared by all browser sessions (the model is loaded once); everything per user
is keyed by user id and passed in by the caller — no per-user state lives on this object, so
sessions cannot leak into each other. The UI, the evaluator and the benchmarks all use it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator, Sequence

from mrrec_chat.agent import events as ev
from mrrec_chat.agent.loop import AgentOptions, MRRecAgent, TurnContext
from mrrec_chat.config import Settings
from mrrec_chat.data.movielens import spoken_title
from mrrec_chat.data.schema import Dataset
from mrrec_chat.memory.api import MemoryAPI
from mrrec_chat.memory.builders import global_memory
from mrrec_chat.memory.facts import ChatFact
from mrrec_chat.memory.schema import MemoryEntry
from mrrec_chat.memory.writeback import MAX_PREFERENCES_PER_MESSAGE
from mrrec_chat.text import clean_message

log = logging.getLogger(__name__)


class Assistant:
    def __init__(self, settings: Settings | None = None, *, dataset: Dataset | None = None,
                 embedder=None, llm=None, load_llm: bool = True):
        self.settings = settings or Settings.from_env()
        self._dataset = dataset
        self._embedder = embedder
        self._llm = llm
        self._load_llm = load_llm
        self._started = False
        self._start_lock = threading.Lock()
        self._user_locks: dict[str, threading.Lock] = {}
        self._user_locks_guard = threading.Lock()
        self.startup_seconds: dict[str, float] = {}

    # --- start-up -------------------------------------------------------------------------
    def start(self) -> "Assistant":
        with self._start_lock:
            if self._started:
                return self
            from mrrec_chat.memory.store import make_client

            s = self.settings
            # The store first: a busy (locked), corrupt or foreign store is refused within a second,
            # not after the dataset and the models have loaded; if anything later fails, the store's
            # lock is released again (a retry in the same process must not find it "in use").
            t = time.perf_counter()
            client, lock = make_client(s.memory_dir, s.chroma_host, s.chroma_port)
            self.startup_seconds["store"] = time.perf_counter() - t
            load_llm = self._llm is None and self._load_llm and s.llm_backend != "none"
            preparing = None
            try:
                if load_llm:  # a first start: the model's one-time export runs beside the next phases
                    from mrrec_chat.llm import prepare

                    preparing = prepare.start(s)
                with preparing.one_core() if preparing else contextlib.nullcontext():
                    self._start_memory_and_catalog(client, lock)
                t = time.perf_counter()
                if load_llm:
                    from mrrec_chat.llm import build_llm

                    if preparing:
                        preparing.wait()
                    self._llm = build_llm(s)
                    self._llm.warm_up()
                self.startup_seconds["llm"] = time.perf_counter() - t
            except BaseException:
                if preparing:
                    preparing.stop()
                if lock is not None:
                    lock.release()
                raise
            self.agent = MRRecAgent(self._llm, self.store, self.catalog, count_tokens=self._count_tokens,
                                    recommender=self.recommender)
            self._started = True
            return self

    def _start_memory_and_catalog(self, client, lock) -> None:
        from mrrec_chat.data.movielens import TitleIndex
        from mrrec_chat.data.sources import load_dataset
        from mrrec_chat.embedding import Embedder
        from mrrec_chat.memory.history import MemoryHistory
        from mrrec_chat.memory.refresh import SummaryRefresher
        from mrrec_chat.memory.store import MemoryStore
        from mrrec_chat.memory.writeback import MemoryWriter
        from mrrec_chat.recommend import Recommender
        from mrrec_chat.retrieval import CatalogIndex

        s = self.settings
        t = time.perf_counter()
        if self._dataset is None:
            self._dataset = load_dataset(s.dataset, s.cache_dir)
        self.startup_seconds["dataset"] = time.perf_counter() - t
        t = time.perf_counter()
        if self._embedder is None:
            self._embedder = Embedder(s.embedding_model)
        self.startup_seconds["embedder"] = time.perf_counter() - t
        t = time.perf_counter()
        self.client = client
        self.store = MemoryStore(client, self.dataset.name, self._embedder, lock)
        self.history = MemoryHistory(f"{s.memory_dir}/history.sqlite3")
        if self.store.count_global() == 0:
            self.store.add(global_memory(self.dataset))
        self.catalog = CatalogIndex(self.dataset, self._embedder, client)
        self.titles = TitleIndex(self.dataset)
        self.recommender = Recommender(self.dataset, self.catalog, self._embedder, self.titles, client=client)
        self.writer = MemoryWriter(self.store, self.history, self.dataset.categories, self._title_lookup)
        self.refresher = SummaryRefresher(self.dataset, self.store, self.history)
        self._memory = MemoryAPI(self.store, self.history, self.writer, self.refresher, self.dataset,
                                 locks=self.user_lock, max_behavior_records=s.max_behavior_records)
        self.startup_seconds["memory_and_catalog"] = time.perf_counter() - t

    def close(self) -> None:
        if self._started:
            self.history.close()
            self.store.close()
            self._started = False

    @property
    def dataset(self) -> Dataset:
        assert self._dataset is not None
        return self._dataset

    @property
    def llm(self):
        return self._llm

    @property
    def memory(self) -> MemoryAPI:
        """The memory service (memory/api.py): every read and write of a user's memory."""
        return self.start()._memory

    def _count_tokens(self, text: str) -> int:
        tokenizer = getattr(self._llm, "tokenizer", None)
        return len(tokenizer.encode(text, add_special_tokens=False)) if tokenizer else max(1, len(text) // 4)

    def _title_lookup(self, text: str) -> list[tuple[str, str, int, int]]:
        """Catalog titles named in `text`, where (nlu.extract_preferences's title_lookup)."""
        # the recommender's reading (a genre word, a described thing or a director is no film: "a good
        # Adventure movie" named *L'Avventura (Adventure, The)* and seeded a ReDial seeker's list with it)
        recommender = getattr(self, "recommender", None)
        spans = recommender.named_spans(text) if recommender is not None else self.titles.find_spans(text)
        return [(i, self.dataset.items[i].display_title, start, end) for start, end, i in spans]

    # --- users ----------------------------------------------------------------------------
    def dataset_users(self, limit: int = 50) -> list[str]:
        return self.dataset.user_ids[:limit]

    @staticmethod
    def new_user_id() -> str:
        return f"new-{uuid.uuid4().hex[:12]}"

    def user_lock(self, user_id: str) -> threading.Lock:
        with self._user_locks_guard:
            return self._user_locks.setdefault(user_id, threading.Lock())

    def ensure_user(self, user_id: str, explicit: bool = False) -> int:
        """Build a dataset user's memory on first use (`MemoryAPI.ensure_user`); current entries."""
        return self.memory.ensure_user(user_id, explicit=explicit)

    def turn_context(self, user_id: str, request: str, earlier: list[str] | None = None,
                     preferences: list | None = None, shown: Sequence[Sequence[str]] = ()) -> TurnContext:
        """The turn's constraints (recommend/policy.py): the request decides, memory modulates.

        `preferences`: the extractor's statements for `request` (extracted here when omitted).
        Excluded: the user's dataset history (unless they asked to be forgotten), 👎 and "seen"
        items, disliked titles, titles named in the request; refused: the request's refused
        genres and the user's own current genre dislikes that this request does not ask for.
        `shown`: the items this chat already listed, one list per earlier turn; a follow-up
        ("something else", "I've seen those") never repeats them.
        """
        if preferences is None:
            preferences = self.extract_statements(request)
        forgotten = self.history.is_forgotten(self.dataset.name, user_id)
        consumed = set() if forgotten else {i.item_id for i in self.dataset.history(user_id)}
        understood = self.recommender.understand(request, preferences, earlier or [], extract=self.extract_statements,
                                                 last_list=list(shown[-1]) if shown else (), shown=shown)
        memory = self.store.list_user(user_id, "behavior") + self.store.list_user(user_id, "chat")
        policy = self.recommender.plan(understood, memory, consumed=consumed, shown=shown)
        return TurnContext(user_id, request, list(earlier or []), set(policy.exclude), set(policy.refused),
                           policy=policy)

    def extract_statements(self, text: str) -> list:
        """The preference statements in `text` (the write-back extractor); [] if it fails."""
        try:
            return self.writer.extract(text)
        except Exception:  # noqa: BLE001 - understanding degrades to the genre scan
            log.exception("preference extraction failed")
            return []

    def options(self, **overrides) -> AgentOptions:
        s = self.settings
        base = AgentOptions(top_k=s.memory_top_k, global_top_k=s.global_top_k, max_rounds=s.max_rounds,
                            n_items=s.top_n_items, max_new_tokens=s.max_new_tokens,
                            answer_max_new_tokens=s.answer_max_new_tokens, temperature=s.temperature)
        for key, value in overrides.items():
            setattr(base, key, value)
        return base

    # --- chat -----------------------------------------------------------------------------
    def chat(self, user_id: str, message: object, earlier: list[str] | None = None,
             options: AgentOptions | None = None, write_back: bool = True,
             shown: Sequence[Sequence[str]] = ()) -> Iterator[ev.Event]:
        """One chat turn: agent events, then the write-back (after the answer is complete).

        `earlier`: this chat's earlier messages; `shown`: the item ids it listed, one list per
        earlier turn (the UI keeps both in its session state)."""
        self.start()
        text, notices = clean_message(message, self.settings.max_message_chars)
        for notice in notices:
            yield ev.Notice(notice, "warning")
        if not text:
            yield ev.Notice("Please type what you would like a recommendation for, e.g. "
                            "“a funny movie for a rainy evening”.", "warning")
            return
        self.ensure_user(user_id)
        # What this very message says ("...but I hate horror") applies to this turn already; it is
        # extracted up front (regex, ~1 ms) and stored only after the answer has been shown.
        preferences = self.extract_statements(text)
        forgotten: dict[str, str] | None = {}
        if write_back:
            # "forget that I said I don't like romance" holds for this very answer: taken back first
            try:
                forgotten = self._retract(user_id, text)
            except Exception:  # noqa: BLE001 - the answer stands even if forgetting failed
                log.exception("retraction failed for %s", user_id)
                yield ev.Notice("I could not update your memory from this message; nothing was changed.", "warning")
                write_back = False
        turn = self.turn_context(user_id, text, earlier, preferences, shown)
        yield from self.agent.run(turn, options or self.options())
        if write_back:
            t0 = time.perf_counter()
            try:
                from mrrec_chat.recommend.request import canonical_genre, retracted_genres

                softened = set(turn.policy.request.softened) if turn.policy is not None else set()
                taken_back = set(retracted_genres(text, self.dataset.categories))

                def kept_statement(p) -> bool:
                    genre = (canonical_genre(p.subject, self.dataset.categories) or p.subject) \
                        if p.subject_type == "category" else None
                    # "forget what I said about romance" is no new statement about romance, and "a
                    # spooky movie for my kids" no liking of horror (the turn gave children's films)
                    return p.subject not in (forgotten or {}) and genre not in taken_back \
                        and not (p.kind == "like" and genre in softened)

                kept = [p for p in preferences if kept_statement(p)]
                result = self.memory.remember(user_id, kept,
                                              source="chat", turn_id=uuid.uuid4().hex[:8])
                marked = 0
                noted: list[str] = []
                if turn.policy is not None and turn.policy.request.seen_previous and shown:
                    # "I've seen all of those": the last list is marked seen, as its "seen" buttons would
                    for item_id in shown[-1]:
                        if item_id in self.dataset.items:
                            self.memory.feedback(user_id, item_id, "seen")
                            marked += 1
                elif turn.policy is not None:
                    # "I've seen the second one", "loved the first": as that card's button would
                    for item_id, stance in turn.policy.request.references:
                        kind = {"seen": "seen", "like": "up", "dislike": "down"}.get(stance)
                        if kind and item_id in self.dataset.items:
                            self.memory.feedback(user_id, item_id, kind)
                            item = self.dataset.items[item_id]
                            noted.append({"seen": "you have seen ", "up": "you liked ",
                                          "down": "you did not like "}[kind] + spoken_title(item.title, item.year))
            except Exception:  # noqa: BLE001 - the answer stands even if learning from it failed
                log.exception("write-back failed for %s", user_id)
                yield ev.Notice("I could not update your memory from this message; nothing was changed.", "warning")
                return
            if marked:
                yield ev.Notice(f"Noted: you have seen the {marked} films of my last list; I will not suggest "
                                "them again.", "info")
            if noted:
                yield ev.Notice("Noted: " + "; ".join(noted) + " (under “Your memory” to change).", "info")
            if forgotten:
                yield ev.Notice("Forgotten, as you asked: " + "; ".join(f"“{t}”" for t in forgotten.values())
                                + ".", "info")
            elif forgotten is None:
                yield ev.Notice("I could not tell which of your memories to forget. Delete entries under “Your "
                                "memory”, or all of them with “Forget me…”.", "info")
            if result.truncated:
                yield ev.Notice(f"Your message listed more preferences than I keep from one message; "
                                f"I remembered the first {MAX_PREFERENCES_PER_MESSAGE}.", "info")
            yield ev.MemoryWritten(result.added, result.reinforced, result.superseded, time.perf_counter() - t0)

    def _retract(self, user_id: str, text: str) -> dict[str, str] | None:
        """"forget what I said about westerns" / "… about Tom Hanks": the user's own current chat
        statements about those genres, people or themes are deleted (the history keeps them);
        {subject: the deleted statement's text}. None: something was taken back, but nothing in
        memory matched it ("forget everything I said")."""
        from mrrec_chat.recommend.request import canonical_genre, fold, retracted_genres, retracting_sentences

        sentences = [fold(t) for t in retracting_sentences(text)]
        if not sentences:
            return {}
        genres = set(retracted_genres(text, self.dataset.categories))
        titles = {i for t in retracting_sentences(text) for i in self.titles.find_mentions(t)} if self.titles else set()
        entries = [(e, f) for e in self.store.list_user(user_id, "chat")
                   if (f := ChatFact.of(e)) is not None and f.users_own and f.kind in ("like", "dislike", "seen")]
        out: dict[str, str] = {}
        for entry, fact in entries:
            if fact.is_category:  # a combination ("rom-coms") is taken back by either of its genres
                hit = any((canonical_genre(g, self.dataset.categories) or g) in genres
                          for g in (fact.subject, *fact.together))
            elif fact.item_id:  # "actually Titanic was fine, forget that"
                hit = fact.item_id in titles
            else:  # a person or a theme, named in the sentence that takes it back
                hit = fact.subject_type in ("person", "theme") and any(fold(fact.subject) in t for t in sentences)
            if hit:
                self.memory.delete(user_id, entry.memory_id)
                out[fact.subject] = entry.text.rstrip(".")
        if not out and not genres and not titles and entries \
                and all(re.fullmatch(r"\W*(?:(?:no|oh|sorry|wait|actually|please|just)\W+)*(?:forget|ignore|scratch)"
                                     r" (?:that|this)\W*(?:please)?\W*", t) for t in sentences):
            # "forget that" alone: what the previous message stored (its statements share a turn id;
            # "forget it" is "never mind" and changes nothing)
            latest, _ = max(entries, key=lambda ef: ef[0].created_at)
            turn = latest.extra.get("turn_id")
            for entry, fact in entries:
                if turn and entry.extra.get("turn_id") == turn:
                    self.memory.delete(user_id, entry.memory_id)
                    out[fact.subject] = entry.text.rstrip(".")
        if not out and (genres or titles):
            return {}  # "I didn't hate Titanic" with nothing stored about it: nothing to say
        return out or None

    def feedback(self, user_id: str, item_id: str, kind: str) -> MemoryEntry:
        """👍 / 👎 / seen on an item (`MemoryAPI.feedback`)."""
        return self.memory.feedback(user_id, item_id, kind)
