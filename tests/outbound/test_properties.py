"""Property: whatever the redirect chain and the DNS answers, no connection reaches a
non-public address unless its origin was named by the operator.

Each example builds a redirect chain that starts on the outlet's (trusted) site and
wanders through the site, an internal origin on loopback (by IP literal, IPv4-mapped
literal, or names whose fake DNS answers mix internal, public and changing
addresses), foreign hosts and other schemes. The internal server must never be
reached, the network boundary must never see a non-public address, and a chain that
stays on the site must still be followed to its end.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.net.addresses import forbidden_reason
from bot.net.guard import OutboundGuard
from bot.net.policy import OutboundPolicy
from scheduler.fetch import Fetcher, FetchError, FetchLimits
from tests.fakes.feedserver import FeedServer
from tests.fakes.network import FakeDNS, LoopbackNetwork

INTERNAL = [
    "127.0.0.1",
    "127.3.2.1",
    "::1",
    "10.0.0.5",
    "172.16.0.9",
    "192.168.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::ffff:127.0.0.1",
    "fe80::1",
    "fd00::5",
    "224.0.0.1",
    "240.0.0.1",
    "64:ff9b::7f00:1",
    "2002:7f00:1::",
]
PUBLIC = ["93.184.215.14", "2606:4700:4700::1111"]
# Loose bounds: nothing here waits for a timeout, and a loopback connect on a loaded machine
# can take over a second.
LIMITS = FetchLimits(connect_timeout=10.0, total_timeout=20.0, max_redirects=12)

answers = st.lists(st.sampled_from(INTERNAL + PUBLIC), min_size=1, max_size=3)
step = st.one_of(
    st.just(("site", "")),
    st.sampled_from([("literal", "127.0.0.1"), ("literal", "[::ffff:127.0.0.1]")]),
    st.tuples(st.just("name"), st.lists(answers, min_size=1, max_size=3).map(tuple)),
    st.sampled_from([("foreign", "intranet.example"), ("scheme", "ftp"), ("scheme", "file")]),
)


@dataclass(frozen=True)
class Chain:
    steps: tuple[tuple[str, object], ...]
    statuses: tuple[int, ...]


chains = st.integers(min_value=0, max_value=7).flatmap(
    lambda n: st.builds(
        Chain,
        st.lists(step, min_size=n, max_size=n).map(lambda s: (("site", ""), *s)),
        st.lists(st.sampled_from([301, 302, 303, 307, 308]), min_size=n, max_size=n).map(tuple),
    )
)


def _url(index: int, kind: str, site: FeedServer, internal: FeedServer) -> str:
    path = f"/hop/{index}"
    if kind == "site":
        return site.url(path)
    if kind == "name":
        return f"http://n{index}.caucasus-wire.example:{internal.port}{path}"
    if kind == "foreign":
        return f"http://intranet.example:{internal.port}{path}"
    return ""


def _step_url(index: int, chain: Chain, site: FeedServer, internal: FeedServer) -> str:
    kind, detail = chain.steps[index]
    if kind == "literal":
        return f"http://{detail}:{internal.port}/hop/{index}"
    if kind == "scheme":
        return "ftp://caucasus-wire.example/x" if detail == "ftp" else "file:///etc/passwd"
    return _url(index, kind, site, internal)


def _route(server: FeedServer, chain: Chain, site: FeedServer, internal: FeedServer) -> None:
    for index in range(len(chain.steps)):
        if index + 1 < len(chain.steps):
            target = _step_url(index + 1, chain, site, internal)
            server.set_redirect(f"/hop/{index}", target, status=chain.statuses[index])
        else:
            server.set_feed(
                f"/hop/{index}", b"<html>end of the chain</html>", content_type="text/html"
            )


async def _walk(chain: Chain) -> tuple[int, LoopbackNetwork, object]:
    async with FeedServer() as site, FeedServer() as internal:
        _route(site, chain, site, internal)
        _route(internal, chain, site, internal)
        dns = FakeDNS(
            {
                f"n{i}.caucasus-wire.example": detail  # type: ignore[misc]
                for i, (kind, detail) in enumerate(chain.steps)
                if kind == "name"
            }
        )
        network = LoopbackNetwork()
        policy = OutboundPolicy.build(
            [site.url("/")], domains=["caucasus-wire.example"], hosts=["127.0.0.1"]
        )
        guard = OutboundGuard(policy, resolver=dns, socket_factory=network)
        outcome: object
        try:
            async with aiohttp.ClientSession() as http:
                fetcher = Fetcher(http, limits=LIMITS, guard=guard)
                try:
                    outcome = (await fetcher.fetch(site.url("/hop/0"))).status
                except FetchError as exc:
                    outcome = exc
        finally:
            await guard.close()
        return sum(internal.hits.values()), network, outcome


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chains)
def test_no_redirect_chain_or_dns_answer_reaches_a_forbidden_address(chain: Chain) -> None:
    internal_hits, network, outcome = asyncio.run(_walk(chain))

    assert internal_hits == 0
    assert all(forbidden_reason(address) is None for address in network.attempts)
    if all(kind == "site" for kind, _ in chain.steps):
        assert outcome == 200  # the guard does not stand in the way of the named origin
    else:
        assert isinstance(outcome, FetchError)


def test_the_property_would_see_a_connection_to_the_internal_server() -> None:
    """The witness works: the same walk without a guard reaches the internal origin."""

    async def unguarded() -> int:
        async with FeedServer() as site, FeedServer() as internal:
            chain = Chain((("site", ""), ("literal", "127.0.0.1")), (302,))
            _route(site, chain, site, internal)
            _route(internal, chain, site, internal)
            async with aiohttp.ClientSession() as http:
                await Fetcher(http, limits=LIMITS).fetch(site.url("/hop/0"))
            return sum(internal.hits.values())

    assert asyncio.run(unguarded()) == 1
