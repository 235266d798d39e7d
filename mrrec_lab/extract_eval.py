"""Evaluate the preference extractor on a hand-labelled message set.

Run: `python -m mrrec_lab.extract_eval [--set PATH] [--show-errors]`

Each JSONL line is {"message": ..., "split": ..., "expected": [{"kind", "subject", "holder"?}, ...]}.
A predicted preference matches an expected one when (kind, normalised subject, holder) are equal;
holder defaults to "user". Reported: micro precision/recall/F1 over all messages, per split and
per kind. Split "dev" was written first and the extractor's lexicon was developed against it;
split "heldout" was written and labelled afterwards, before the extractor was run on it, so it is
the fairer estimate.

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
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

from mrrec_chat.nlu import extract_preferences

DEFAULT_SET = Path(__file__).resolve().parents[1] / "memory_data" / "eval" / "extraction_set.jsonl"

# A small fake catalog standing in for the real title lookup: (item_id, title, year).
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
]


def normalise(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form used for matching subjects."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"\s+", " ", text).strip(" .")


def _compile_catalog() -> list[tuple[str, str, re.Pattern[str], bool]]:
    compiled = []
    for item_id, title, year in FAKE_CATALOG:
        core = normalise(re.sub(r"^The\s+", "", title))
        pattern = re.compile(r"(?<!\w)(?:the\s+)?" + re.escape(core) + r"(?!\w)")
        compiled.append((item_id, f"{title} ({year})", pattern, " " not in core))
    return compiled


_CATALOG = _compile_catalog()


def _fold_chars(text: str) -> str:
    """Lower-case, accent-free copy with one character per input character (offsets line up)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)[:1].lower()
        out.append(base if len(base) == 1 else ch)
    return "".join(out)


def fake_title_lookup(text: str) -> list[tuple[str, str]]:
    """Titles of the fake catalog mentioned in `text`. One-word titles must be capitalised, the
    way a real lookup would avoid reading "heat" or "alien" in ordinary sentences as films."""
    low = _fold_chars(text)
    found = []
    for item_id, display, pattern, one_word in _CATALOG:
        core_len = len(normalise(re.sub(r"^The\s+", "", display.rsplit(" (", 1)[0])))
        if any(not one_word or text[mt.end() - core_len].isupper() for mt in pattern.finditer(low)):
            found.append((item_id, display))
    return found


def load_set(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def _key(kind: str, subject: str, holder: str) -> tuple[str, str, str]:
    return kind, normalise(subject), holder


def evaluate(path: Path = DEFAULT_SET) -> dict:
    """Run the extractor over the labelled set; returns overall and per-kind counts and errors."""
    tp, fp, fn = Counter(), Counter(), Counter()
    split_counts: dict[str, Counter] = {}
    errors = []
    rows = load_set(path)
    for row in rows:
        sc = split_counts.setdefault(row.get("split", "all"), Counter())
        predicted = extract_preferences(row["message"], title_lookup=fake_title_lookup)
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

    def prf(t: int, p: int, n: int) -> dict:
        precision = t / (t + p) if t + p else 1.0
        recall = t / (t + n) if t + n else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "tp": t, "fp": p, "fn": n}

    kinds = sorted(set(tp) | set(fp) | set(fn))
    return {"messages": len(rows), "overall": prf(sum(tp.values()), sum(fp.values()), sum(fn.values())),
            "per_split": {k: prf(c["tp"], c["fp"], c["fn"]) for k, c in split_counts.items()},
            "per_kind": {k: prf(tp[k], fp[k], fn[k]) for k in kinds}, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="labelled JSONL file")
    parser.add_argument("--show-errors", action="store_true", help="list every mismatched message")
    args = parser.parse_args(argv)
    result = evaluate(args.set)
    o = result["overall"]
    print(f"messages: {result['messages']}")
    print(f"micro precision {o['precision']:.3f}  recall {o['recall']:.3f}  f1 {o['f1']:.3f}  "
          f"(tp {o['tp']}, fp {o['fp']}, fn {o['fn']})")
    for split, s in result["per_split"].items():
        print(f"  split {split:<8} precision {s['precision']:.3f}  recall {s['recall']:.3f}  "
              f"f1 {s['f1']:.3f}  (tp {s['tp']}, fp {s['fp']}, fn {s['fn']})")
    print(f"{'kind':<11} {'prec':>6} {'rec':>6} {'f1':>6} {'tp':>4} {'fp':>4} {'fn':>4}")
    for kind, s in result["per_kind"].items():
        print(f"{kind:<11} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} "
              f"{s['tp']:>4} {s['fp']:>4} {s['fn']:>4}")
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
