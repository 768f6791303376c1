"""docs/flows.md from the recorded walks: each step's English screens, then its Russian
ones (a pure function of the recordings, so the file is the same from run to run)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.flows.recorder import Screen, Step
from tests.flows.walkthrough import walk

DOC = Path(__file__).resolve().parents[2] / "docs" / "flows.md"
COMMAND = "python -m tests.flows"
LANGUAGES = ("en", "ru")

INTRO = f"""# Conversations: readers, admins and operators

What readers, admins and operators see, screen by screen, in English and in Russian.
This file is generated: `{COMMAND}` walks the bot through every conversation against the
fake Bot API (`tests/fakes/botapi.py`) with the tests' example catalog (outlet "Caucasus
Wire", regions Georgia and Armenia, topics Economy and Culture) and writes down exactly
what the bot sent; `tests/flows/test_flows_doc.py` fails when this file differs from it.
The walk is `tests/flows/walkthrough.py`. `[Button]` is an inline button under the message,
`⟦Button⟧` a button of the keyboard that replaces the user's own; "(notice)" is what
Telegram shows for a moment after a tap. Every text exists in English, Russian, Georgian,
Armenian and Azerbaijani (`bot/i18n/locales/*/messages.po`).
"""


def _screen(screen: Screen) -> str:
    if screen.kind == "prose":
        return screen.text
    body = f"(notice) {screen.text}" if screen.kind == "notice" else screen.text
    block = f"```\n{body}\n```"
    return f"{screen.where}:\n\n{block}" if screen.where else block


def _step(english: Step, russian: Step) -> list[str]:
    out = [f"{'#' * english.level} {english.heading}"]
    if english.prose:
        out.append(english.prose)
    out.extend(_screen(s) for s in english.screens)
    shown = [s for s in russian.screens if s.kind != "prose"]
    if shown:
        out.append("In Russian:")
        out.extend(_screen(s) for s in shown)
    return out


def compose(walks: Sequence[Sequence[Step]]) -> str:
    """The document from the English and the Russian walk (same steps, same order)."""
    english, russian = walks
    assert [s.heading for s in english] == [s.heading for s in russian]
    blocks = [INTRO.strip()]
    for en_step, ru_step in zip(english, russian, strict=True):
        blocks.extend(_step(en_step, ru_step))
    return "\n\n".join(blocks) + "\n"


async def generate() -> str:
    """Walk the bot in each language (a fresh database each time) and compose."""
    walks = []
    for lang in LANGUAGES:
        with tempfile.TemporaryDirectory() as directory:
            walks.append((await walk(lang, Path(directory))).steps)
    return compose(walks)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("tests.flows").setLevel(logging.INFO)
    DOC.write_text(asyncio.run(generate()), encoding="utf-8")
    print(f"wrote {DOC}")
