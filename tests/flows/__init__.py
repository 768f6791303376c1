"""docs/flows.md, generated: the bot walked through every conversation against the fake
Bot API, in English and Russian, and what it sent written down (``python -m tests.flows``)."""
