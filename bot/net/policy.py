"""Which URLs the bot may fetch: operator-named origins, and the outlet's own hosts.

Two kinds of URL reach the fetcher. Those the operator wrote (feeds, the site, a
WordPress REST base, most-read sources, the Bot API) are trusted as written, by
origin (scheme, host, port): a newsroom may poll an intranet CMS, and tests serve on
loopback. Everything else came from content (an item's link, a section page's links,
a redirect's ``Location``) and is fetched only from the outlet's own hosts: the
catalog ``site`` host and its subdomains, the feeds' hosts, and ``[outlet]
article_hosts`` (each with its subdomains). Even then the connection is checked
against :mod:`bot.net.addresses` (see :mod:`bot.net.guard`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from yarl import URL

from bot.catalog import Catalog
from bot.config import Settings

SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host (lower case, IDNA, no trailing dot) and port of a URL."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def normal_host(host: str) -> str:
    """A host as compared here: lower case, IDNA-encoded, no trailing dot; IPs canonical."""
    text = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    try:
        return text.encode("idna").decode("ascii")
    except UnicodeError:
        return text


def origin_of(url: str | URL) -> Origin | None:
    """The origin of an http(s) URL, or ``None`` for anything else (or unparsable)."""
    try:
        parsed = url if isinstance(url, URL) else URL(url.strip())
        scheme = parsed.scheme.lower()
        host = parsed.raw_host
        port = parsed.port
    except (TypeError, ValueError):
        return None
    if scheme not in SCHEMES or not host or port is None:
        return None
    return Origin(scheme, normal_host(host), port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _base_domain(host: str) -> str:
    """The site's domain for subdomain matching: ``www.example.com`` -> ``example.com``."""
    return host.removeprefix("www.") if host.count(".") >= 2 else host


@dataclass(frozen=True)
class OutboundPolicy:
    """The origins trusted as written, and the hosts content links may lead to."""

    operator_origins: frozenset[Origin]
    outlet_domains: frozenset[str]  # these hosts and their subdomains
    outlet_hosts: frozenset[str]  # exactly these hosts
    operator_files: frozenset[str] = frozenset()  # file:// feeds, read exactly as named

    @classmethod
    def build(
        cls, operator_urls: Iterable[str], *, domains: Iterable[str], hosts: Iterable[str]
    ) -> OutboundPolicy:
        named = [url.strip() for url in operator_urls]
        origins = {o for o in map(origin_of, named) if o is not None}
        files = {url for url in named if url.lower().startswith("file:")}
        normal_domains = {normal_host(d) for d in domains if d.strip()}
        exact = {normal_host(h) for h in hosts if h.strip()}
        exact |= {d for d in normal_domains if _is_ip(d)}
        return cls(
            frozenset(origins),
            frozenset(normal_domains - exact),
            frozenset(exact),
            frozenset(files),
        )

    @classmethod
    def from_config(cls, settings: Settings, catalog: Catalog) -> OutboundPolicy:
        """Everything the operator named in the settings and the catalog."""
        site = origin_of(catalog.outlet.site)
        feed_hosts = [o.host for o in map(origin_of, (f.url for f in catalog.feeds)) if o]
        domains = [*catalog.outlet.article_hosts]
        if site is not None:
            domains.append(_base_domain(site.host))
        return cls.build(
            [settings.telegram_api_url, *operator_urls(catalog)], domains=domains, hosts=feed_hosts
        )

    def trusts(self, url: str | URL) -> bool:
        """Whether ``url``'s origin was named by the operator (no address check)."""
        origin = origin_of(url)
        return origin is not None and origin in self.operator_origins

    def names_file(self, url: str) -> bool:
        """Whether ``url`` is a ``file://`` feed the catalog names (no other file is read)."""
        return url.strip() in self.operator_files

    def is_outlet_host(self, host: str) -> bool:
        name = normal_host(host)
        if name in self.outlet_hosts or name in self.outlet_domains:
            return True
        if _is_ip(name):
            return False
        return any(name.endswith("." + domain) for domain in self.outlet_domains)

    def refusal(self, url: str | URL) -> str | None:
        """Why ``url`` may not be fetched at all, or ``None`` (the address check still applies)."""
        origin = origin_of(url)
        if origin is None:
            return _unfetchable(url)
        if origin in self.operator_origins:
            return None
        if not self.is_outlet_host(origin.host):
            return f"{origin.host} is not one of the outlet's hosts"
        return None


def _unfetchable(url: str | URL) -> str:
    scheme = str(url).partition(":")[0].strip().lower()
    if scheme not in SCHEMES:
        return "only http and https URLs are fetched"
    return "malformed URL"


def operator_urls(catalog: Catalog) -> list[str]:
    """Every URL the catalog tells the bot to fetch (their origins are trusted)."""
    urls = [catalog.outlet.site]
    for feed in catalog.feeds:
        urls.append(feed.url)
        if feed.wordpress_base:  # a discovered REST base is content: not trusted
            urls.append(feed.wordpress_base)
    source = catalog.mostread.url
    urls.extend([source] if isinstance(source, str) else source.values())
    return [url for url in urls if url]
