"""Locate and score the gold sentence corpus (shared with bench/sentences.py).

The corpus lives outside the repository (``../shared/corpus`` next to the checkout, or
``$NEWSBOT_CORPUS_DIR``) because its licences are ShareAlike and it is large; tests skip
when it is absent instead of failing on machines that do not have it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: News (NTREX): (file relative to ``corpus/sentences``, language code, target F1).
NEWS_FILES: tuple[tuple[str, str, float], ...] = (
    ("ntrex/en.jsonl", "en", 0.97),
    ("ntrex/ru.jsonl", "ru", 0.97),
    ("ntrex/ka.jsonl", "ka", 0.97),
    ("ntrex/hy.jsonl", "hy", 0.97),
    ("ntrex/az.jsonl", "az", 0.97),
)
#: UD treebanks (web, social, wiki, fiction); ``az.jsonl`` is a copy of NTREX's.
TREEBANK_FILES: tuple[tuple[str, str, float], ...] = (
    ("en.jsonl", "en", 0.90),
    ("ru.jsonl", "ru", 0.95),
    ("ka.jsonl", "ka", 0.95),
    ("hy.jsonl", "hy", 0.95),
)
#: Files whose target applies to the text as it stands (:func:`as_web_text`): the issue
#: counts English EWT as "web text whose unpunctuated lines count as sentences". Every
#: other target applies to the corpus as given (sentences joined with one space).
WEB_TARGETS: frozenset[str] = frozenset({"en.jsonl"})
GOLD_FILES: tuple[tuple[str, str], ...] = tuple(
    (name, lang) for name, lang, _ in (*NEWS_FILES, *TREEBANK_FILES)
)

Splitter = Callable[[str, str], list[str]]

#: A sentence's final punctuation, possibly followed by closing quotes and brackets.
_PUNCTUATED = re.compile(r"[.!?…։:;][\"'»”’“)\]]*$")


def corpus_dir() -> Path:
    """``$NEWSBOT_CORPUS_DIR`` if set, else ``<repo>/../shared/corpus``."""
    configured = os.environ.get("NEWSBOT_CORPUS_DIR")
    if configured:
        return Path(configured)
    repo = Path(__file__).resolve().parents[2]
    return (repo / ".." / "shared" / "corpus").resolve()


def sentences_dir() -> Path:
    return corpus_dir() / "sentences"


def as_web_text(sentences: list[str]) -> str:
    """The sentences as web text stands: one without final punctuation (a heading, a
    signature, an e-mail header, a comment, a list item) ends its line; the others are
    joined with a space. UD keeps only ``# text``, so the line breaks are rebuilt."""
    pieces = []
    for sentence in sentences[:-1]:
        pieces.append(sentence + (" " if _PUNCTUATED.search(sentence) else "\n"))
    return "".join(pieces) + sentences[-1] if sentences else ""


def read_gold(path: Path, *, web: bool = False) -> Iterator[tuple[str, list[str]]]:
    """Yield ``(text, sentences)`` per JSON line; ``web``: :func:`as_web_text`."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                sentences = list(record["sentences"])
                yield (as_web_text(sentences) if web else record["text"]), sentences


def _starts(text: str, sentences: list[str]) -> set[int]:
    """Offsets in ``text`` where the second and later sentences begin."""
    starts: set[int] = set()
    cursor = 0
    for index, sentence in enumerate(sentences):
        found = text.find(sentence, cursor)
        if found < 0:
            raise ValueError(f"sentence not found in text: {sentence[:60]!r}")
        if index:
            starts.add(found)
        cursor = found + len(sentence)
    return starts


@dataclass(frozen=True, slots=True)
class Scores:
    """Micro-averaged boundary precision and recall over one file."""

    gold: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def score_file(path: Path, lang: str, split: Splitter, *, web: bool = False) -> Scores:
    """Compare the sentence starts ``split`` finds with the gold ones, line by line."""
    gold_total = predicted_total = correct = 0
    for text, gold in read_gold(path, web=web):
        expected = _starts(text, gold)
        found = _starts(text, split(text, lang))
        gold_total += len(expected)
        predicted_total += len(found)
        correct += len(expected & found)
    return Scores(gold_total, predicted_total, correct)


def errors(
    path: Path, lang: str, split: Splitter, *, web: bool = False
) -> Iterator[tuple[str, str, str]]:
    """Yield ``(kind, left, right)`` context around each missed or extra boundary."""
    for text, gold in read_gold(path, web=web):
        expected = _starts(text, gold)
        found = _starts(text, split(text, lang))
        for kind, offsets in (("missed", expected - found), ("extra", found - expected)):
            for offset in sorted(offsets):
                yield kind, text[max(0, offset - 50) : offset], text[offset : offset + 30]
