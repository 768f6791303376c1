"""The fetcher with its guard, against real local servers, a fake DNS and a loopback-only net.

``site`` is the outlet (its origin is named in the catalog, so it is trusted as
written); ``internal`` is another origin on loopback holding a secret, standing for
a service inside the operator's network. Whatever a feed or a redirect says, the
internal server must receive no request at all.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.net.guard import OutboundGuard
from bot.net.policy import OutboundPolicy
from scheduler.fetch import Fetcher, FetchError, FetchLimits, FetchRefused
from tests.fakes.feedserver import FeedServer, rss_feed
from tests.fakes.network import FakeDNS, LoopbackNetwork

# No test here waits for a timeout (refusals come before a socket, unreachable addresses fail
# at once), so the bounds are loose: a loopback connect on a loaded machine can take over a
# second, and a connect timing out is not what any of these tests is about.
LIMITS = FetchLimits(connect_timeout=10.0, total_timeout=20.0)
SECRET = "internal-secret-7f3a"
PUBLIC = "93.184.215.14"


@dataclass
class World:
    site: FeedServer
    internal: FeedServer
    dns: FakeDNS
    network: LoopbackNetwork
    guard: OutboundGuard
    fetcher: Fetcher

    def internal_url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.internal.port}/secret"

    def internal_hits(self) -> int:
        return sum(self.internal.hits.values())


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with FeedServer() as site, FeedServer() as internal:
        site.set_feed("/feed/", rss_feed([{"title": "One", "link": site.url("/1/")}]))
        internal.set_feed(
            "/secret", f"<html><p>{SECRET}</p></html>".encode(), content_type="text/html"
        )
        dns = FakeDNS(
            {
                "internal.caucasus-wire.example": [["127.0.0.1"]],
                "intranet.caucasus-wire.example": [["10.0.0.5", "127.0.0.1", "::1"]],
                "mixed.caucasus-wire.example": [[PUBLIC, "127.0.0.1"]],
                "rebind.caucasus-wire.example": [[PUBLIC], ["127.0.0.1"]],
            }
        )
        network = LoopbackNetwork()
        policy = OutboundPolicy.build(
            [site.url("/feed/")], domains=["caucasus-wire.example"], hosts=["127.0.0.1"]
        )
        guard = OutboundGuard(policy, resolver=dns, socket_factory=network)
        async with aiohttp.ClientSession() as http:
            fetcher = Fetcher(http, limits=LIMITS, guard=guard)
            yield World(site, internal, dns, network, guard, fetcher)
        await guard.close()


async def test_an_origin_the_operator_named_is_fetched_as_written(world: World) -> None:
    result = await world.fetcher.fetch(world.site.url("/feed/"))

    assert result.status == 200 and b"One" in result.body
    assert world.network.attempts == []  # the operator's session, not the guarded one


async def test_a_direct_link_to_another_loopback_origin_is_refused_before_a_socket_exists(
    world: World,
) -> None:
    with pytest.raises(FetchRefused) as refused:
        await world.fetcher.fetch(world.internal_url())

    assert "127.0.0.1 is loopback" in refused.value.reason
    assert world.internal_hits() == 0
    assert world.network.attempts == []


async def test_a_redirect_from_the_trusted_site_to_an_internal_origin_is_refused(
    world: World,
) -> None:
    world.site.set_redirect("/go/", world.internal_url(), status=302)

    with pytest.raises(FetchRefused):
        await world.fetcher.fetch(world.site.url("/go/"))

    assert world.site.hits["/go/"] == 1
    assert world.internal_hits() == 0


async def test_a_redirect_off_the_outlets_hosts_is_refused_without_a_lookup(world: World) -> None:
    world.site.set_redirect("/away/", "http://tracker.example/x", status=301)

    with pytest.raises(FetchRefused) as refused:
        await world.fetcher.fetch(world.site.url("/away/"))

    assert "tracker.example is not one of the outlet's hosts" in refused.value.reason
    assert world.dns.lookups == []


async def test_a_name_resolving_to_loopback_is_refused_after_the_lookup(world: World) -> None:
    with pytest.raises(FetchRefused) as refused:
        await world.fetcher.fetch(world.internal_url("internal.caucasus-wire.example"))

    assert "no public address (127.0.0.1 is loopback)" in refused.value.reason
    assert world.dns.lookups == ["internal.caucasus-wire.example"]
    assert world.internal_hits() == 0 and world.network.attempts == []


async def test_a_name_with_only_internal_addresses_names_each_reason(world: World) -> None:
    with pytest.raises(FetchRefused) as refused:
        await world.fetcher.fetch(world.internal_url("intranet.caucasus-wire.example"))

    reason = refused.value.reason
    assert "10.0.0.5 is a private address" in reason and "::1 is loopback" in reason
    assert world.internal_hits() == 0


async def test_from_a_mixed_answer_only_the_public_address_is_tried(world: World) -> None:
    with pytest.raises(FetchError) as failed:
        await world.fetcher.fetch(world.internal_url("mixed.caucasus-wire.example"))

    assert not isinstance(failed.value, FetchRefused)  # unreachable here, but not refused
    assert world.network.attempts == [PUBLIC]
    assert world.internal_hits() == 0


async def test_dns_rebinding_gets_no_connection_to_the_second_answer(world: World) -> None:
    url = world.internal_url("rebind.caucasus-wire.example")
    with pytest.raises(FetchError) as first:
        await world.fetcher.fetch(url)
    connector = world.guard.session.connector
    assert isinstance(connector, aiohttp.TCPConnector)
    connector.clear_dns_cache()  # the first answer's TTL ran out

    with pytest.raises(FetchRefused) as second:
        await world.fetcher.fetch(url)

    assert not isinstance(first.value, FetchRefused)
    assert "127.0.0.1 is loopback" in second.value.reason
    assert world.dns.lookups.count("rebind.caucasus-wire.example") == 2
    assert world.network.attempts == [PUBLIC]
    assert world.internal_hits() == 0


async def test_an_ipv4_mapped_literal_is_judged_by_its_ipv4_address(world: World) -> None:
    policy = OutboundPolicy.build([], domains=[], hosts=["::ffff:127.0.0.1"])
    guard = OutboundGuard(policy, socket_factory=world.network)
    async with aiohttp.ClientSession() as http:
        fetcher = Fetcher(http, limits=LIMITS, guard=guard)
        with pytest.raises(FetchRefused) as refused:
            await fetcher.fetch(f"http://[::ffff:127.0.0.1]:{world.internal.port}/secret")
    await guard.close()

    assert "127.0.0.1 is loopback" in refused.value.reason
    assert world.internal_hits() == 0


async def test_a_refused_host_is_logged_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.net.guard")
    for path in ("/a", "/b", "/c"):
        with pytest.raises(FetchRefused):
            await world.fetcher.fetch(f"http://evil.example{path}")
    with pytest.raises(FetchRefused):
        await world.fetcher.fetch(world.internal_url("internal.caucasus-wire.example"))

    lines = [r.getMessage() for r in caplog.records if r.name == "bot.net.guard"]
    assert len(lines) == 2
    assert "evil.example" in lines[0] and "not one of the outlet's hosts" in lines[0]
    assert "internal.caucasus-wire.example" in lines[1] and "loopback" in lines[1]


async def test_only_the_catalogs_own_file_feeds_are_read(world: World, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss_feed([{"title": "Local", "link": "https://caucasus-wire.example/1/"}]))
    other = tmp_path / "secret.txt"
    other.write_text(SECRET)
    policy = OutboundPolicy.build([feed.as_uri()], domains=["caucasus-wire.example"], hosts=[])
    guard = OutboundGuard(policy)
    async with aiohttp.ClientSession() as http:
        fetcher = Fetcher(http, limits=LIMITS, guard=guard)
        named = await fetcher.fetch(feed.as_uri())
        with pytest.raises(FetchRefused) as refused:
            await fetcher.fetch(other.as_uri())
    await guard.close()

    assert named.status == 200 and b"Local" in named.body
    assert "file://" in refused.value.reason
