"""The connection guard: every connection to a content origin is checked when it is made.

The address check runs after DNS resolution, on the very addresses aiohttp is about
to connect to, so a name that resolves to an internal address, or answers
differently the second time (DNS rebinding), gets no further:

- :class:`GuardedResolver` wraps the resolver and drops refused addresses from each
  answer (a name with only refused addresses fails with the reason);
- :func:`guarded_socket_factory` is the last gate before ``connect()``: it sees every
  address, including IP literals in URLs (aiohttp does not resolve those).

Origins the operator named are fetched through the process's ordinary session
(the one the Bot API uses); everything else goes through :attr:`OutboundGuard.session`,
whose connector has both checks and no exceptions. :class:`OutboundGuard` also keeps
the once-per-host log of refusals.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping

import aiohttp
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.net.addresses import forbidden_reason
from bot.net.policy import OutboundPolicy

log = logging.getLogger(__name__)

#: Hosts remembered for the once-per-host log; past this the memory starts afresh.
_TOLD_LIMIT = 10_000


class AddressRefused(OSError):
    """A connection the guard would not open; the message says why."""


class GuardedResolver(AbstractResolver):
    """Resolves with ``inner`` (the default resolver unless given) and drops refused addresses.

    ``inner`` is the DNS boundary: tests pass a resolver that answers as a hostile
    name server would. The guard owns it and closes it.
    """

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        refused: list[str] = []
        for answer in answers:
            reason = forbidden_reason(answer["host"])
            if reason is None:
                allowed.append(answer)
            else:
                refused.append(reason)
        if not allowed:
            detail = "; ".join(dict.fromkeys(refused)) or "no address"
            raise AddressRefused(f"{host} resolves to no public address ({detail})")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket_factory(inner: SocketFactoryType | None = None) -> SocketFactoryType:
    """A socket factory that refuses any non-public address before a socket exists.

    ``inner`` creates the socket (the network boundary; tests pass one that records
    the addresses and refuses anything but loopback).
    """

    def create(addr_info: AddrInfoType) -> socket.socket:
        family, kind, proto, _, address = addr_info
        reason = forbidden_reason(str(address[0]))
        if reason is not None:
            raise AddressRefused(f"refused to connect: {reason}")
        if inner is not None:
            return inner(addr_info)
        return socket.socket(family=family, type=kind, proto=proto)

    return create


class OutboundGuard:
    """The guarded session for content origins, the policy, and the refusal log.

    Create it inside the event loop; close it with :meth:`close`.
    """

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        headers: Mapping[str, str] | None = None,
        resolver: AbstractResolver | None = None,
        socket_factory: SocketFactoryType | None = None,
    ) -> None:
        self.policy = policy
        self._resolver = GuardedResolver(resolver)
        connector = aiohttp.TCPConnector(
            resolver=self._resolver, socket_factory=guarded_socket_factory(socket_factory)
        )
        self.session = aiohttp.ClientSession(
            connector=connector, headers=dict(headers or {}), trust_env=False
        )
        self._told: set[str] = set()

    def tell(self, host: str, reason: str) -> None:
        """Log a refused fetch, once per host (a hostile feed may repeat it every poll)."""
        key = host.lower()
        if key in self._told:
            log.debug("refused to fetch from %s again: %s", host, reason)
            return
        if len(self._told) >= _TOLD_LIMIT:
            self._told.clear()
        self._told.add(key)
        log.warning("refused to fetch from %s: %s (said once per host)", host, reason)

    async def close(self) -> None:
        await self.session.close()
        await self._resolver.close()


def address_refusal(exc: BaseException) -> AddressRefused | None:
    """The guard's refusal behind an aiohttp connection error, if that is what it was."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, AddressRefused):
            return current
        seen.add(id(current))
        inner = getattr(current, "os_error", None)
        current = inner if isinstance(inner, BaseException) else current.__cause__
    return None
