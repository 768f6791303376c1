"""Sentence-splitter quality on the gold corpus: boundary P/R/F1 per file, with targets.

Run from the repository root: ``.venv/bin/python bench/sentences.py``. Two tables:

- **news** (NTREX-128, professional news translation, one segment per line of the
  article);
- **UD treebanks** (web text, social media, Wikipedia, fiction).

Each file is scored two ways: as the corpus gives it (a passage's sentences joined with
one space), and as the text stands where it comes from, where a sentence without final
punctuation (a subheading, a signature, an e-mail header, a comment) ends its line, as
it does in an article's paragraphs and in web text (the summarizer gets paragraphs one
per line). The target applies to the form the issue names, shown in the ``on`` column:
the corpus as given, except English EWT, "web text whose unpunctuated lines count as
sentences" (no splitter can find a heading's end in "Email: x@y.com Groups: alt.animals"
once the line breaks are gone).

``--errors N`` prints up to N missed/extra boundaries per file (``--web`` for the
web-text form), to find the error classes; ``--only`` picks files by name.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.text.sentences import split_sentences
from tests.text.gold_corpus import (
    NEWS_FILES,
    TREEBANK_FILES,
    WEB_TARGETS,
    Scores,
    errors,
    score_file,
    sentences_dir,
)

_HEADER = f"{'file':<16}{'lang':<5}{'gold':>6}{'P':>7}{'R':>7}{'F1':>7}"


def _cells(scores: Scores) -> str:
    return f"{scores.gold:>6}{scores.precision:>7.3f}{scores.recall:>7.3f}{scores.f1:>7.3f}"


def _verdict(f1: float, target: float, *, web: bool) -> str:
    form = "text" if web else "given"
    return f"{target:>8.2f}{form:>7}  {'ok' if f1 >= target else 'BELOW'}"


def _print_errors(path: Path, lang: str, count: int, *, web: bool) -> None:
    for index, (kind, left, right) in enumerate(errors(path, lang, split_sentences, web=web)):
        if index >= count:
            break
        print(f"    {kind:<7}{left!r:>60} | {right!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", type=int, default=0, metavar="N")
    parser.add_argument("--web", action="store_true", help="errors in the web-text form")
    parser.add_argument("--only", default="", help="substring of the file names to include")
    args = parser.parse_args()
    root = sentences_dir()
    if not root.is_dir():
        print(f"corpus not found at {root} (set NEWSBOT_CORPUS_DIR)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    tables = (
        ("news (NTREX-128)", NEWS_FILES),
        ("UD treebanks (web text, social media, Wikipedia, fiction)", TREEBANK_FILES),
    )
    for heading, files in tables:
        print(f"{heading}: as given | as text stands (unpunctuated sentences end their line)")
        print(f"{_HEADER}{'F1 text':>8}{'target':>8}{'on':>7}")
        for name, lang, target in files:
            if args.only in name:
                given = score_file(root / name, lang, split_sentences)
                web = score_file(root / name, lang, split_sentences, web=True)
                scored = web if name in WEB_TARGETS else given
                verdict = _verdict(scored.f1, target, web=name in WEB_TARGETS)
                print(f"{name:<16}{lang:<5}{_cells(given)}{web.f1:>8.3f}{verdict}")
                _print_errors(root / name, lang, args.errors, web=args.web)
        print()
    print(f"{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
