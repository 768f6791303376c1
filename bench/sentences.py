"""Sentence-splitter quality on the gold corpus: boundary P/R/F1 per file.

Run from the repository root: ``.venv/bin/python bench/sentences.py`` (``--errors N``
also prints up to N missed/extra boundaries per file, to tune the rules).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.text.sentences import split_sentences
from tests.text.gold_corpus import GOLD_FILES, errors, score_file, sentences_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", type=int, default=0, metavar="N")
    parser.add_argument("--only", default="", help="substring of the file names to include")
    args = parser.parse_args()
    root = sentences_dir()
    if not root.is_dir():
        print(f"corpus not found at {root} (set NEWSBOT_CORPUS_DIR)", file=sys.stderr)
        return 2
    print(f"{'file':<18}{'lang':<6}{'gold':>7}{'found':>7}{'P':>8}{'R':>8}{'F1':>8}{'ms':>8}")
    for name, lang in GOLD_FILES:
        if args.only not in name:
            continue
        path = root / name
        started = time.perf_counter()
        scores = score_file(path, lang, split_sentences)
        elapsed = (time.perf_counter() - started) * 1000
        print(
            f"{name:<18}{lang:<6}{scores.gold:>7}{scores.predicted:>7}"
            f"{scores.precision:>8.3f}{scores.recall:>8.3f}{scores.f1:>8.3f}{elapsed:>8.0f}"
        )
        for index, (kind, left, right) in enumerate(errors(path, lang, split_sentences)):
            if index >= args.errors:
                break
            print(f"    {kind:<7}{left!r:>60} | {right!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
