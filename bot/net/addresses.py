"""Which IP addresses outbound fetches never connect to (pure, no I/O).

Everything that is not a public internet address is refused: loopback, private
networks (RFC 1918, fc00::/7), link-local, the carrier-grade NAT range, the
unspecified address, multicast and reserved ranges. IPv6 forms that carry an IPv4
address (IPv4-mapped ``::ffff:a.b.c.d``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``)
are judged by the IPv4 address they lead to.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def forbidden_reason(address: str) -> str | None:
    """Why ``address`` must not be connected to, or ``None`` for a public address.

    ``address`` is a literal as found in a socket address (an IPv6 zone such as
    ``%eth0`` is allowed); anything that does not parse is refused.
    """
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    return classify(parsed)


def classify(address: IPAddress) -> str | None:
    """The kind of non-public address this is (``"loopback"``...), or ``None``."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return classify(inner)
    if address.is_unspecified:
        return f"{address} is the unspecified address"
    if address.is_loopback:
        return f"{address} is loopback"
    if address.is_link_local:
        return f"{address} is link-local"
    if address.is_multicast:
        return f"{address} is multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return f"{address} is carrier-grade NAT (100.64.0.0/10)"
    if address.is_reserved:
        return f"{address} is reserved"
    if address.is_private:
        return f"{address} is a private address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
