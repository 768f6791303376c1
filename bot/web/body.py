"""Reading a request body whole, however it arrives, up to a limit.

``request.content.read(n)`` returns what has arrived so far, not ``n`` bytes: a
body sent in several TCP writes, or chunked, comes back cut short, and a signature
checked over it fails. Here the stream is read to its end (the transfer decoding
is aiohttp's), counting as it goes, so a body over the limit is refused without
being held, with or without a ``Content-Length``; a client that stops sending
halfway is given up on after a while instead of holding the handler forever.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

READ_TIMEOUT = 10.0  # seconds for the whole body; a CMS sends a few hundred bytes


class BodyTooLarge(Exception):
    """The body is longer than the limit (413)."""


class BodyTimeout(Exception):
    """The client did not finish sending the body in time (408)."""


async def read_body(request: web.Request, limit: int, within: float = READ_TIMEOUT) -> bytes:
    """The whole body, at most ``limit`` bytes, received within ``within`` seconds."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(within):
            async for chunk in request.content.iter_any():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTimeout from None
    return b"".join(chunks)
