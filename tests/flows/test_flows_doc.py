"""The committed docs/flows.md is exactly what the bot sends (the screens cannot drift)."""

from __future__ import annotations

import difflib

import pytest

from tests.flows.document import COMMAND, DOC, generate


@pytest.mark.timeout(600)
async def test_docs_flows_is_what_the_bot_sends() -> None:
    expected = await generate()
    committed = DOC.read_text(encoding="utf-8")
    if committed != expected:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                "docs/flows.md (committed)",
                "docs/flows.md (what the bot sends)",
            )
        )
        pytest.fail(f"docs/flows.md has drifted from the bot; run `{COMMAND}`.\n{diff}")
