"""The network's two boundaries, as a hostile world would answer: DNS and connect().

:class:`FakeDNS` is a resolver (aiohttp's resolver interface) whose answers a test
writes, including answers that change from one lookup to the next (DNS rebinding).
:class:`LoopbackNetwork` is the socket factory under the guard: it records every
address a connection was actually attempted to, creates real sockets for loopback
only, and refuses anything else as unreachable, so no test ever leaves the machine.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping, Sequence

from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult


class FakeDNS(AbstractResolver):
    """Answers ``answers[name]``: a list of answers, one per lookup; the last one repeats."""

    def __init__(self, answers: Mapping[str, Sequence[Sequence[str]]]) -> None:
        self.answers = {name.lower(): list(seq) for name, seq in answers.items()}
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.lower()
        count = self.lookups.count(name)
        self.lookups.append(name)
        sequence = self.answers.get(name)
        if not sequence:
            raise OSError(socket.EAI_NONAME, f"fake DNS: no such name {host}")
        answer = sequence[min(count, len(sequence) - 1)]
        return [_result(host, address, port) for address in answer]

    async def close(self) -> None:
        return None


def _result(host: str, address: str, port: int) -> ResolveResult:
    version = ipaddress.ip_address(address).version
    return {
        "hostname": host,
        "host": address,
        "port": port,
        "family": socket.AF_INET6 if version == 6 else socket.AF_INET,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }


class LoopbackNetwork:
    """A socket factory: records each address, connects loopback only."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def __call__(self, addr_info: AddrInfoType) -> socket.socket:
        family, kind, proto, _, address = addr_info
        host = str(address[0])
        self.attempts.append(host)
        if not ipaddress.ip_address(host.split("%", 1)[0]).is_loopback:
            raise OSError(f"test network: {host} is unreachable (loopback only)")
        return socket.socket(family=family, type=kind, proto=proto)
