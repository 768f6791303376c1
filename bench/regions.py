"""Region classification on the labelled set: precision and recall per language.

Run from the repository root: ``.venv/bin/python bench/regions.py`` (``--errors`` also
lists the articles it filed wrongly). It classifies ``tests/ingest/data/regions.jsonl``
(articles in five languages, labelled by hand) with the regions of
``catalog.example.toml``, as ingestion does: categories and tags first, keywords as the
fallback. Scores count (article, region) pairs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ingest.labelled_regions import Score, example_matcher, load_labelled, score

TARGET_PRECISION = 0.95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the articles filed wrongly")
    args = parser.parse_args()
    labelled = load_labelled()
    scores = score(labelled, example_matcher())
    print(f"{'lang':<6}{'articles':>9}{'pairs':>7}{'TP':>5}{'FP':>5}{'FN':>5}{'P':>8}{'R':>8}")
    for lang, s in scores.items():
        print(_row(lang, s))
    keywords_only = score(labelled, example_matcher(categories=False))["all"]
    print(_row("all, keywords only (no categories)", keywords_only))
    overall = scores["all"].precision
    verdict = "met" if overall >= TARGET_PRECISION else "NOT met"
    print(f"precision target >= {TARGET_PRECISION}: {verdict}")
    if args.errors:
        for item, predicted in scores["all"].wrong:
            expected = ", ".join(sorted(item.expected)) or "-"
            got = ", ".join(predicted) or "-"
            print(f"  [{item.lang}] {item.entry.title!r}: expected {expected}, got {got}")
    return 0


def _row(label: str, s: Score) -> str:
    pairs = s.true_positives + s.false_negatives
    head = f"{label:<6}{s.articles:>9}" if len(label) <= 6 else f"{label}\n{'':<6}{s.articles:>9}"
    return (
        f"{head}{pairs:>7}{s.true_positives:>5}{s.false_positives:>5}"
        f"{s.false_negatives:>5}{s.precision:>8.3f}{s.recall:>8.3f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
