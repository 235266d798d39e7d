"""ReDial-on-MovieLens benchmark cases: real seekers' requests, graded against MovieLens ids.

The rules are docs/DESIGN.md "Evaluation" made exact; `mrrec_lab/eval/PROTOCOL.md` states them
for readers and records the counts measured on the development dialogues. In short, for each
dialogue (a JSONL line of ReDial):

* seeker = `initiatorWorkerId`; the seeker's questionnaire is `initiatorQuestions`, or
  `respondentQuestions` when the seeker left theirs empty (the recommender answered the same
  questions about the seeker);
* first recommendation = the first message by the recommender (`respondentWorkerId`) that
  mentions (`@id`) a movie the questionnaire marks `suggested == 1`;
* request = the seeker's messages before it, joined by newlines, `@id` replaced by the title;
* ground truth = questionnaire movies with `suggested == 1` and `liked == 1`, mapped to
  MovieLens by normalised title + year, minus any the seeker already named in the request;
* memory = the seeker's earlier dialogues (smaller numeric `conversationId`), never the current
  one: questionnaire opinions as interactions (liked 1 -> 5.0, liked 0 -> 1.0, liked 2 and
  seen 1 -> 3.0, else none; timestamp = that conversationId) and the seeker's utterances that
  have content, as statements. Cold start = no earlier dialogue by that seeker.

Every dialogue that yields no case is counted in `BuildReport` under the first rule it fails.
A line that is not a dialogue (bad JSON, a missing or mistyped field, bytes that are not UTF-8,
a line over `checks.MAX_LINE_BYTES`, which is skipped without being read into memory) is
skipped and counted as `malformed_lines`, with up to five examples naming the line; a file with
no readable dialogue at all is refused with `DatasetError`.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import urllib.parse
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mrrec_chat.data.checks import BadLine, DatasetError, empty_file_error, iter_lines
from mrrec_chat.data.movielens import TitleIndex
from mrrec_chat.data.schema import Dataset, Interaction
from mrrec_lab.eval.cases import BenchmarkCase

logger = logging.getLogger(__name__)

MENTION = re.compile(r"@(\d+)")
MOVIES_CSV = "movies_with_mentions.csv"
_REQUIRED = ("conversationId", "messages", "initiatorWorkerId", "respondentWorkerId")

# Greetings, pleasantries and function words. A request made only of these (and no movie) has
# no content: "Hi", "Hello, how are you?", "Good and yourself?". Genre words, "movie", "like"
# and the like are deliberately absent: "Know any good movies?" is a real, if vague, request.
SMALL_TALK = frozenset("""
hi hii hey heya hiya hello helo howdy greetings aloha hola yo ho sup ghi neighbor neighbour
good great fine ok okay well alright doing thanks thank thx ty welcome glad wonderful awesome
nice cool pretty not bad fantastic excellent super lovely happy
how hows are is it its be been am was were i im me my mine you your youre yourself u ur hbu wbu
and so much very too also the a an to of in on at for with this that what whats about up
there here everything things today tonight morning afternoon evening night day weekend
monday tuesday wednesday thursday friday saturday sunday
yes yeah yep yup sure no nope nah do does did going lol haha hahaha hehe hmm um uh oh
bye goodbye later
""".split())


def has_content(text: str) -> bool:
    """True if the text names a movie or has at least one word that is not small talk."""
    if MENTION.search(text):
        return True
    words = re.findall(r"[a-z]+", text.lower().replace("'", "").replace("’", ""))
    return any(word not in SMALL_TALK for word in words)


@dataclass
class BuildReport:
    """Counts of everything read, kept and dropped while building cases (nothing is silent)."""

    dialogues_read: int = 0
    malformed_lines: int = 0
    duplicate_dialogues: int = 0
    questionnaire_fallbacks: int = 0
    no_questionnaire: int = 0
    no_recommendation: int = 0
    empty_requests: int = 0
    no_ground_truth: int = 0
    no_ground_truth_liked_suggestion: int = 0
    no_ground_truth_unmatched: int = 0
    no_ground_truth_all_in_request: int = 0
    ground_truth_total: int = 0
    ground_truth_matched: int = 0
    ground_truth_removed_in_request: int = 0
    ground_truth_in_memory: int = 0
    mentions_total: int = 0
    mentions_matched: int = 0
    cases: int = 0
    cold_start_cases: int = 0
    warm_cases: int = 0
    malformed_examples: list[str] = field(default_factory=list)

    @property
    def match_rate(self) -> float:
        """Share of movie mentions (movieMentions entries of well-formed dialogues) mapped."""
        return self.mentions_matched / self.mentions_total if self.mentions_total else 0.0

    @property
    def ground_truth_match_rate(self) -> float:
        return self.ground_truth_matched / self.ground_truth_total if self.ground_truth_total else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["match_rate"] = round(self.match_rate, 4)
        data["ground_truth_match_rate"] = round(self.ground_truth_match_rate, 4)
        return data


@dataclass
class _Dialogue:
    """One parsed dialogue, reduced to what the rules need."""

    conversation_id: int
    seeker: str
    recommender: str
    titles: dict[str, str]
    messages: list[tuple[str, str]]  # (sender id, text)
    questions: dict[str, dict[str, int]]


def clean_title(raw: str | None) -> str:
    """ReDial titles carry URL escapes ("What About Bob%3F") and doubled spaces."""
    return " ".join(urllib.parse.unquote(raw or "").split())


def _questions(value: Any) -> dict[str, dict[str, int]]:
    # Empty questionnaires are stored as [] in ReDial; entries lacking a field are unusable.
    if not isinstance(value, dict):
        return {}
    return {
        str(movie): answers for movie, answers in value.items()
        if isinstance(answers, dict) and all(isinstance(answers.get(k), int) for k in ("suggested", "seen", "liked"))
    }


def _parse(record: Any) -> _Dialogue:
    """A `_Dialogue`, or KeyError/TypeError/ValueError when the line is not a ReDial dialogue."""
    if not isinstance(record, dict) or any(key not in record for key in _REQUIRED):
        raise KeyError("missing one of " + ", ".join(_REQUIRED))
    mentions = record.get("movieMentions") or {}
    if not isinstance(mentions, dict) or not isinstance(record["messages"], list):
        raise TypeError("movieMentions must be an object and messages a list")
    messages = [(str(m["senderWorkerId"]), str(m.get("text") or "")) for m in record["messages"]]
    return _Dialogue(
        conversation_id=int(record["conversationId"]),
        seeker=str(record["initiatorWorkerId"]),
        recommender=str(record["respondentWorkerId"]),
        titles={str(k): clean_title(v) for k, v in mentions.items()},
        messages=messages,
        questions=_questions(record.get("initiatorQuestions")),
    )


def _read_dialogues(path: Path, report: BuildReport) -> list[_Dialogue]:
    dialogues: dict[int, _Dialogue] = {}
    for line_number, line in iter_lines(path, strict=False):
        if isinstance(line, BadLine):
            _malformed(report, path, line_number, f"{line.problem} (skipped)")
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            dialogue = _parse(record)
        except (json.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError, RecursionError) as error:
            _malformed(report, path, line_number, repr(error))
            continue
        report.dialogues_read += 1
        if not dialogue.questions:
            dialogue.questions = _questions(record.get("respondentQuestions"))
            if dialogue.questions:
                report.questionnaire_fallbacks += 1
        if dialogue.conversation_id in dialogues:
            report.duplicate_dialogues += 1  # the first copy wins; a repeat is not new evidence
            continue
        dialogues[dialogue.conversation_id] = dialogue
    if report.malformed_lines:
        logger.warning("%s: %d malformed lines skipped, e.g. %s",
                       path, report.malformed_lines, report.malformed_examples[0])
    if not dialogues:
        if report.malformed_lines:
            raise DatasetError(f"{path.name}: no line is a ReDial dialogue ({report.malformed_lines} malformed, "
                               f"e.g. {report.malformed_examples[0]}). Fix: pass ReDial's dialogues JSONL, "
                               "one dialogue object per line.")
        raise empty_file_error(path, "dialogues")
    return sorted(dialogues.values(), key=lambda d: d.conversation_id)


def _malformed(report: BuildReport, path: Path, line_number: int, problem: str) -> None:
    report.malformed_lines += 1
    if len(report.malformed_examples) < 5:
        report.malformed_examples.append(f"{path.name} line {line_number}: {problem}")


def _read_csv_titles(path: Path) -> dict[str, str]:
    """ReDial's own movie list, a second spelling of each title to try when the first fails."""
    if not path.is_file():
        return {}
    reader = csv.DictReader(str(text) + "\n" for _, text in iter_lines(path))
    try:
        return {
            row["movieId"]: clean_title(row.get("movieName"))
            for row in reader if row.get("movieId")
        }
    except csv.Error as error:
        raise DatasetError(f"{path.name} line {reader.line_num}: not valid CSV ({error}). Fix: obtain "
                           "a fresh copy of ReDial's movies_with_mentions.csv, or remove it.") from None


class _Mapper:
    """ReDial movie id -> MovieLens item id, through the dialogue's title or ReDial's list."""

    def __init__(self, index: TitleIndex, csv_titles: dict[str, str]) -> None:
        self.index, self.csv_titles = index, csv_titles
        self._cache: dict[tuple[str, str], str | None] = {}

    def __call__(self, redial_id: str, title: str) -> str | None:
        key = (redial_id, title)
        if key not in self._cache:
            found = self.index.lookup(title) if title else None
            alternative = self.csv_titles.get(redial_id, "")
            if found is None and alternative and alternative != title:
                found = self.index.lookup(alternative)
            self._cache[key] = found
        return self._cache[key]


def _with_titles(text: str, titles: dict[str, str]) -> str:
    """The text with each `@id` replaced by its title (an unknown id is left as written)."""
    replaced = MENTION.sub(lambda m: titles.get(m.group(1)) or m.group(0), text)
    return " ".join(replaced.split())


def _rating(answers: dict[str, int]) -> float | None:
    if answers["liked"] == 1:
        return 5.0
    if answers["liked"] == 0:
        return 1.0
    if answers["liked"] == 2 and answers["seen"] == 1:
        return 3.0
    return None


def _memory_of(dialogue: _Dialogue, mapper: _Mapper, user_id: str) -> tuple[list[Interaction], list[str]]:
    """What one (earlier) dialogue contributes to its seeker's memory."""
    seeker_texts = [text for sender, text in dialogue.messages if sender == dialogue.seeker]
    statements = [_with_titles(t, dialogue.titles) for t in seeker_texts if has_content(t)]
    interactions: list[Interaction] = []
    seen_items: set[str] = set()
    for movie, answers in dialogue.questions.items():
        rating = _rating(answers)
        item_id = mapper(movie, dialogue.titles.get(movie, ""))
        if rating is None or item_id is None or item_id in seen_items:
            continue  # two ReDial ids for one film ("American Pie", "American Pie (1999)")
        seen_items.add(item_id)
        review = next(
            (
                _with_titles(sentence, dialogue.titles)
                for text in seeker_texts
                for sentence in re.split(r"(?<=[.!?])\s+", text)
                if movie in MENTION.findall(sentence)
            ),
            "",
        )
        interactions.append(Interaction(
            user_id=user_id, item_id=item_id, rating=rating,
            timestamp=float(dialogue.conversation_id), review=review,
        ))
    return interactions, statements


def build_redial_cases(redial_path: Path, movielens: Dataset) -> tuple[list[BenchmarkCase], BuildReport]:
    """Build benchmark cases from a ReDial JSONL file (rules in the module docstring)."""
    redial_path = Path(redial_path)
    if not redial_path.is_file():
        raise DatasetError(
            f"{redial_path}: file not found. Fix: pass the ReDial dialogues JSONL, e.g. "
            "../shared/data/redial/dialogues_dev.jsonl."
        )
    report = BuildReport()
    dialogues = _read_dialogues(redial_path, report)
    mapper = _Mapper(TitleIndex(movielens), _read_csv_titles(redial_path.parent / MOVIES_CSV))
    # Each seeker's earlier dialogues' memory, appended in conversationId order, so a case sees
    # exactly the dialogues before its own (a seeker here has up to ~100 dialogues).
    earlier: dict[str, list[tuple[list[Interaction], list[str]]]] = defaultdict(list)
    cases: list[BenchmarkCase] = []
    for dialogue in dialogues:
        user_id = f"redial-{dialogue.seeker}"
        history = list(earlier[dialogue.seeker])
        earlier[dialogue.seeker].append(_memory_of(dialogue, mapper, user_id))
        for movie, title in dialogue.titles.items():
            report.mentions_total += 1
            report.mentions_matched += mapper(movie, title) is not None
        case = _case_of(dialogue, history, mapper, report)
        if case is not None:
            cases.append(case)
    report.cases = len(cases)
    report.cold_start_cases = sum(case.cold_start for case in cases)
    report.warm_cases = report.cases - report.cold_start_cases
    return cases, report


def _case_of(dialogue: _Dialogue, history: list[tuple[list[Interaction], list[str]]],
             mapper: _Mapper, report: BuildReport) -> BenchmarkCase | None:
    """The case of one dialogue, or None after counting the first rule it fails."""
    if not dialogue.questions:
        report.no_questionnaire += 1
        return None
    suggested = {movie for movie, a in dialogue.questions.items() if a["suggested"] == 1}
    first = next(
        (
            position for position, (sender, text) in enumerate(dialogue.messages)
            if sender == dialogue.recommender and suggested & set(MENTION.findall(text))
        ),
        None,
    )
    if first is None:
        report.no_recommendation += 1
        return None
    seeker_texts = [text for sender, text in dialogue.messages[:first] if sender == dialogue.seeker]
    if not any(has_content(text) for text in seeker_texts):
        report.empty_requests += 1
        return None
    request = "\n".join(_with_titles(t, dialogue.titles) for t in seeker_texts if t.strip())
    in_request = {mapper(m, dialogue.titles.get(m, "")) for t in seeker_texts for m in MENTION.findall(t)}
    liked = [m for m, a in dialogue.questions.items() if a["suggested"] == 1 and a["liked"] == 1]
    truth: list[str] = []
    matched_any = False
    for movie in liked:
        report.ground_truth_total += 1
        item_id = mapper(movie, dialogue.titles.get(movie, ""))
        if item_id is None:
            continue
        report.ground_truth_matched += 1
        matched_any = True
        if item_id in in_request:
            report.ground_truth_removed_in_request += 1
        elif item_id not in truth:
            truth.append(item_id)
    if not truth:
        report.no_ground_truth += 1
        if not liked:
            report.no_ground_truth_liked_suggestion += 1
        elif not matched_any:
            report.no_ground_truth_unmatched += 1
        else:
            report.no_ground_truth_all_in_request += 1
        return None
    user_id = f"redial-{dialogue.seeker}"
    memory: list[Interaction] = []
    statements: list[str] = []
    for interactions, said in history:
        memory.extend(interactions)
        statements.extend(said)
    remembered = {x.item_id for x in memory}
    report.ground_truth_in_memory += sum(item in remembered for item in truth)
    return BenchmarkCase(
        case_id=f"redial-{dialogue.conversation_id}", user_id=user_id, request=request,
        ground_truth=truth, memory_interactions=memory, memory_statements=statements,
        cold_start=not history, conversation_id=str(dialogue.conversation_id),
    )
