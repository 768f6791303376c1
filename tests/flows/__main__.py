"""``python -m tests.flows``: regenerate docs/flows.md from the bot's answers."""

from tests.flows.document import main

main()
