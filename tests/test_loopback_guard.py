"""The test suite's loopback guard really stops lookups of outside hosts."""

from __future__ import annotations

import socket

import aiohttp
import pytest


def test_outside_names_fail_without_a_lookup() -> None:
    with pytest.raises(socket.gaierror, match="loopback only"):
        socket.getaddrinfo("caucasus-wire.example", 443)
    assert socket.getaddrinfo("127.0.0.1", 80)


async def test_aiohttp_cannot_reach_outside_hosts() -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectorError):
            await http.get("http://caucasus-wire.example/")
