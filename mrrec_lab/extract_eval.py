"""Evaluate the preference extractor on a hand-labelled message set.

Run: `python -m mrrec_lab.extract_eval [--set PATH] [--part old|fresh] [--batch N] [--show-errors]`

Each JSONL line is {"message": ..., "split": ..., "expected": [{"kind", "subject", "holder"?}, ...]}.
A predicted preference matches an expected one when (kind, normalised subject, holder) are equal;
holder defaults to "user". Reported: micro precision/recall/F1 over all messages, per split and
per kind. Split "dev" was written first and the extractor's lexicon was developed against it;
split "heldout" was written and labelled afterwards, before the extractor was run on it, so it is
the fairer estimate. Rows with "part": "fresh" (split "fresh", "batch" 1, 2, ...) were written
for issue 20 before the extractor was run on them (titles without cue verbs, stances on titles,
people, themes, common words that are also titles); `--part fresh` reports them alone, `--part old`
the rest. Also reported: polarity inversions (a like where the label says dislike, or the reverse)
and films "invented" (a predicted title the labels of that message do not name). Titles are found
by the app's own `TitleIndex.find_spans` over the fake catalog below.

Labelling guide (how the set was written, so labels follow the guide rather than the extractor):
- like/dislike of a genre: subject is the MovieLens genre ("romcoms" -> Romance and Comedy).
  Asking for a genre now ("in the mood for a western", "recommend a thriller", "comedy please")
  is a like. A past-only view ("used to love horror") gets no label; the current view does.
- items: the display title from the fake catalog below. "seen" only when the message says the
  user watched it; liking a film does not add a seen label.
- other people's views ("my wife hates westerns"): kind like/dislike with holder "other".
  Viewing constraints always have holder "user" (they bind the whole audience).
- constraint subjects use a fixed vocabulary: "at most N minutes", "at least N minutes",
  "from the 1990s", "released after YYYY", "released before YYYY", "recent", "classic",
  "no subtitles", "in English", "not too violent" (also gore), "not too scary",
  "not depressing" (sad/heavy/dark), "not too long", "family-friendly", "feel-good",
  "highly rated", "no sequels", "no explicit content".
- context subjects: "watching with kids", "watching with family", "watching with partner",
  "date night", "watching with friends", "watching alone", "on a plane".
- questions about the assistant's or an item's quality, greetings, thanks: nothing.
- people (actors, directors): subject_type "person", subject the full name ("Tarantino" ->
  "Quentin Tarantino", "the Coens" -> "Coen brothers"); like/dislike as for genres.
- themes (topics and moods: heist, zombies, superheroes, dinosaurs, time travel, whimsical, quirky,
  gritty...): subject_type "theme", the canonical theme of `nlu/lexicon.THEMES`; a theme is kept
  as itself, not widened to a genre ("tired of superhero movies" is not a dislike of Action). Rows
  labelled before this rule were relabelled (marked "relabelled").
- a common word is not a film: "Nothing too sad" names no film, "a Michael Bay movie" names a
  person, not *Michael* or *The Bay*.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

from mrrec_chat.data.movielens import TitleIndex
from mrrec_chat.data.schema import Dataset, Item
from mrrec_chat.nlu import extract_preferences

DEFAULT_SET = Path(__file__).resolve().parents[1] / "memory_data" / "eval" / "extraction_set.jsonl"

# A small fake catalog standing in for the real one: (item_id, title, year). Titles 35+ were added
# with the fresh part: common words that are also films ("Nothing", "Up", "Big", "It", "Home Alone").
FAKE_CATALOG: list[tuple[str, str, int]] = [
    ("m1", "Heat", 1995), ("m2", "The Matrix", 1999), ("m3", "Titanic", 1997),
    ("m4", "Toy Story", 1995), ("m5", "The Godfather", 1972), ("m6", "Pulp Fiction", 1994),
    ("m7", "The Shawshank Redemption", 1994), ("m8", "Jurassic Park", 1993), ("m9", "Alien", 1979),
    ("m10", "The Shining", 1980), ("m11", "Fargo", 1996), ("m12", "Casablanca", 1942),
    ("m13", "Star Wars", 1977), ("m14", "Forrest Gump", 1994), ("m15", "The Lion King", 1994),
    ("m16", "Inception", 2010), ("m17", "Interstellar", 2014), ("m18", "The Dark Knight", 2008),
    ("m19", "Finding Nemo", 2003), ("m20", "Frozen", 2013), ("m21", "Amélie", 2001),
    ("m22", "Mamma Mia!", 2008), ("m23", "La La Land", 2016), ("m24", "Get Out", 2017),
    ("m25", "The Notebook", 2004), ("m26", "Die Hard", 1988), ("m27", "Unforgiven", 1992),
    ("m28", "Gladiator", 2000), ("m29", "Parasite", 2019), ("m30", "Groundhog Day", 1993),
    ("m31", "Clueless", 1995), ("m32", "Saving Private Ryan", 1998), ("m33", "Spirited Away", 2001),
    ("m34", "The Exorcist", 1973),
    ("m35", "Nothing", 2003), ("m36", "Michael", 1996), ("m37", "The Bay", 2012), ("m38", "Speed", 1994),
    ("m39", "Big", 1988), ("m40", "Up", 2009), ("m41", "Crash", 1996), ("m42", "Home Alone", 1990),
    ("m43", "Always", 1989), ("m44", "Her", 2013), ("m45", "Jaws", 1975), ("m46", "Psycho", 1960),
    ("m47", "Ocean's Eleven", 2001), ("m48", "Reservoir Dogs", 1992), ("m49", "The Godfather: Part III", 1990),
    ("m50", "Top Gun", 1986), ("m51", "Taxi Driver", 1976), ("m52", "Big Night", 1996),
    ("m53", "True Lies", 1994), ("m54", "It", 2017), ("m55", "Babe", 1995), ("m56", "The Game", 1997),
    ("m57", "Contact", 1997), ("m58", "Scream", 1996), ("m59", "Twister", 1996),
    ("m60", "Fly Away Home", 1996), ("m61", "No Country for Old Men", 2007), ("m62", "Fight Club", 1999),
    ("m63", "Paddington", 2014), ("m64", "Kill Bill: Vol. 1", 2003), ("m65", "The Grand Budapest Hotel", 2014),
    ("m66", "Moonrise Kingdom", 2012), ("m67", "Seven", 1995), ("m68", "Memento", 2000), ("m69", "Hook", 1991),
    ("m70", "Sleepless in Seattle", 1993),
    # added with fresh batch 2 (written after the extractor changes that followed batch 1)
    ("m71", "Drive", 2011), ("m72", "Brave", 2012), ("m73", "Arrival", 2016), ("m74", "Signs", 2002),
    ("m75", "Gravity", 2013), ("m76", "Cars", 2006), ("m77", "Elf", 2003), ("m78", "Clue", 1985),
    # added with fresh batch 3 (written after the extractor changes that followed batches 1-2): more
    # everyday words, and titles that are words of the other languages ("Volver", "Roma")
    ("m79", "Rush", 2013), ("m80", "Us", 2019), ("m81", "Sing", 2016), ("m82", "Cats", 2019),
    ("m83", "Chef", 2014), ("m84", "Room", 2015), ("m85", "Coco", 2017), ("m86", "Roma", 2018),
    ("m87", "Volver", 2006), ("m88", "Amour", 2012), ("m89", "Das Boot", 1981),
    ("m90", "Good Bye Lenin!", 2003), ("m91", "Run Lola Run", 1998), ("m92", "The Intouchables", 2011),
    ("m93", "Mother", 2009),
    # added with fresh batch 6 (written blind)
    ("m94", "Jumanji", 1995), ("m95", "Taken", 2008), ("m96", "Ghost", 1990), ("m97", "Inside Out", 2015),
    ("m98", "Soul", 2020), ("m99", "Nope", 2022), ("m100", "Whiplash", 2014), ("m101", "Knives Out", 2019),
    ("m102", "Mad Max: Fury Road", 2015), ("m103", "The Truman Show", 1998), ("m104", "Spotlight", 2015),
    ("m105", "Cast Away", 2000), ("m106", "Rocky", 1976), ("m107", "Moana", 2016), ("m108", "Wild", 2014),
    # a title that starts with a dislike word, from a ReDial seeker's "i like comedies Dumb and Dumber"
    ("m109", "Dumb and Dumber", 1994),
]


def normalise(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form used for matching subjects."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"\s+", " ", text).strip(" .")


_DATASET = Dataset("extract-eval", {i: Item(i, t, (), y) for i, t, y in FAKE_CATALOG})
_TITLES = TitleIndex(_DATASET)


def fake_title_lookup(text: str) -> list[tuple[str, str, int, int]]:
    """The app's title lookup (`TitleIndex.find_spans`) over the fake catalog: (id, title, start, end)."""
    return [(i, _DATASET.items[i].display_title, start, end) for start, end, i in _TITLES.find_spans(text)]


def load_set(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def _key(kind: str, subject: str, holder: str) -> tuple[str, str, str]:
    return kind, normalise(subject), holder


def evaluate(path: Path = DEFAULT_SET, part: str | None = None, batch: int | None = None) -> dict:
    """Run the extractor over the labelled set (only rows of `part` when given: "fresh" selects
    the fresh part, "old" everything else); returns overall, per-split and per-kind counts, errors,
    polarity inversions and films invented from words that name no film in the labels."""
    tp, fp, fn = Counter(), Counter(), Counter()
    split_counts: dict[str, Counter] = {}
    errors, inversions, invented = [], [], []
    rows = [r for r in load_set(path) if (part is None or r.get("part", "old") == part)
            and (batch is None or r.get("batch") == batch)]
    for row in rows:
        sc = split_counts.setdefault(row.get("split", "all"), Counter())
        predicted = extract_preferences(row["message"], title_lookup=fake_title_lookup, strict=True)
        got = Counter(_key(p.kind, p.subject, p.holder) for p in predicted)
        want = Counter(_key(e["kind"], e["subject"], e.get("holder", "user")) for e in row["expected"])
        for key in got | want:
            hit = min(got[key], want[key])
            tp[key[0]] += hit
            fp[key[0]] += got[key] - hit
            fn[key[0]] += want[key] - hit
            sc["tp"] += hit
            sc["fp"] += got[key] - hit
            sc["fn"] += want[key] - hit
        missing, extra = want - got, got - want
        if missing or extra:
            errors.append({"message": row["message"], "missing": sorted(missing), "extra": sorted(extra)})
        opposite = {"like": "dislike", "dislike": "like"}
        for kind, subject, holder in extra:
            if kind in opposite and (opposite[kind], subject, holder) in missing:
                inversions.append({"message": row["message"], "got": (kind, subject, holder)})
        labelled = {normalise(e["subject"]) for e in row["expected"]}
        for p in predicted:
            if p.subject_type == "item" and normalise(p.subject) not in labelled:
                invented.append({"message": row["message"], "film": p.subject})

    def prf(t: int, p: int, n: int) -> dict:
        precision = t / (t + p) if t + p else 1.0
        recall = t / (t + n) if t + n else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "tp": t, "fp": p, "fn": n}

    kinds = sorted(set(tp) | set(fp) | set(fn))
    return {"messages": len(rows), "overall": prf(sum(tp.values()), sum(fp.values()), sum(fn.values())),
            "per_split": {k: prf(c["tp"], c["fp"], c["fn"]) for k, c in split_counts.items()},
            "per_kind": {k: prf(tp[k], fp[k], fn[k]) for k in kinds}, "errors": errors,
            "inversions": inversions, "invented": invented}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="labelled JSONL file")
    parser.add_argument("--part", choices=["old", "fresh"], help="only this part of the set (default: all)")
    parser.add_argument("--batch", type=int, help="only this batch of the fresh part (1, 2, ...)")
    parser.add_argument("--show-errors", action="store_true", help="list every mismatched message")
    args = parser.parse_args(argv)
    result = evaluate(args.set, args.part, args.batch)
    o = result["overall"]
    print(f"messages: {result['messages']}" + (f" (part {args.part})" if args.part else "")
          + (f" (batch {args.batch})" if args.batch else ""))
    print(f"micro precision {o['precision']:.3f}  recall {o['recall']:.3f}  f1 {o['f1']:.3f}  "
          f"(tp {o['tp']}, fp {o['fp']}, fn {o['fn']})")
    for split, s in result["per_split"].items():
        print(f"  split {split:<8} precision {s['precision']:.3f}  recall {s['recall']:.3f}  "
              f"f1 {s['f1']:.3f}  (tp {s['tp']}, fp {s['fp']}, fn {s['fn']})")
    print(f"{'kind':<11} {'prec':>6} {'rec':>6} {'f1':>6} {'tp':>4} {'fp':>4} {'fn':>4}")
    for kind, s in result["per_kind"].items():
        print(f"{kind:<11} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} "
              f"{s['tp']:>4} {s['fp']:>4} {s['fn']:>4}")
    print(f"polarity inversions: {len(result['inversions'])}; films not named in the labels "
          f"(invented): {len(result['invented'])}")
    for inv in result["inversions"]:
        print(f"  inversion: {inv['got']} in {inv['message']!r}")
    for inv in result["invented"]:
        print(f"  invented: {inv['film']} in {inv['message']!r}")
    if args.show_errors:
        print(f"\n{len(result['errors'])} messages with errors:")
        for err in result["errors"]:
            print(f"- {err['message']}")
            for k in err["missing"]:
                print(f"    missing: {k}")
            for k in err["extra"]:
                print(f"    extra:   {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
