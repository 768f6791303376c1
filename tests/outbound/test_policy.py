"""The outbound policy: operator-named origins are trusted, content stays on the outlet's hosts."""

from __future__ import annotations

import pytest

from bot.catalog import parse_catalog
from bot.config import Settings
from bot.errors import ConfigError
from bot.net.policy import OutboundPolicy, origin_of


def _catalog(**outlet: object) -> dict[str, object]:
    return {
        "outlet": {
            "name": "Caucasus Wire",
            "site": "https://www.caucasus-wire.example",
            "languages": ["en"],
            **outlet,
        },
        "feeds": [
            {"url": "http://127.0.0.1:8081/feed/", "language": "en"},
            {
                "url": "https://feeds.partner.example/cw.xml",
                "language": "en",
                "wordpress": "http://cms.intranet:8080/wp-json/wp/v2/",
            },
        ],
        "mostread": {"source": "html", "url": "http://10.1.2.3/popular", "selector": "a"},
    }


def _policy(**outlet: object) -> OutboundPolicy:
    settings = Settings(_env_file=None, bot_token="1:x", telegram_api_url="http://127.0.0.1:9000")
    return OutboundPolicy.from_config(settings, parse_catalog(_catalog(**outlet)))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8081/feed/",
        "http://127.0.0.1:8081/2026/11/article/",  # any path on a named origin
        "http://cms.intranet:8080/wp-json/wp/v2/posts/5",
        "http://10.1.2.3:80/popular",
        "http://127.0.0.1:9000/bot123/getMe",
        "https://WWW.Caucasus-Wire.example./news/",
    ],
)
def test_origins_the_operator_named_are_trusted_as_written(url: str) -> None:
    policy = _policy()

    assert policy.trusts(url)
    assert policy.refusal(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8082/secret",  # another port on a feed's host
        "https://127.0.0.1:8081/feed/",  # another scheme
        "http://cms.intranet/wp-json/",  # another port
        "http://www.caucasus-wire.example/",  # http, where the site is https
    ],
)
def test_another_port_or_scheme_is_not_the_named_origin(url: str) -> None:
    assert not _policy().trusts(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://caucasus-wire.example/a/",
        "https://ru.caucasus-wire.example/a/",
        "http://static.cdn.caucasus-wire.example:8443/a/",
        "http://feeds.partner.example/other/",
        "http://127.0.0.1:8082/secret",  # an outlet host: the address check decides
        "https://media.sister.example/a/",
        "https://sister.example/a/",
    ],
)
def test_content_links_may_lead_to_the_outlets_hosts(url: str) -> None:
    policy = _policy(article_hosts=["sister.example"])

    assert not policy.trusts(url)
    assert policy.refusal(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://evil.example/", "evil.example is not one of the outlet's hosts"),
        ("http://caucasus-wire.example.evil.example/", "not one of the outlet's hosts"),
        ("http://evilcaucasus-wire.example/", "not one of the outlet's hosts"),
        ("http://partner.example/", "not one of the outlet's hosts"),  # feed host: exact only
        ("http://cms.intranet:8080.evil/", "malformed URL"),
        ("http://10.1.2.3:8080/", "not one of the outlet's hosts"),  # named origin, other port
        ("http://1.127.0.0.1/", "not one of the outlet's hosts"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://caucasus-wire.example/", "only http and https"),
        ("ftp://caucasus-wire.example/", "only http and https"),
    ],
)
def test_other_hosts_and_schemes_are_refused(url: str, reason: str) -> None:
    refusal = _policy(article_hosts=["sister.example"]).refusal(url)

    assert refusal is not None and reason in refusal


def test_article_hosts_are_validated_with_the_key_named() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_catalog(_catalog(article_hosts=["ok.example", "https://bad.example/", "a b"]))

    problems = caught.value.problems
    assert any("outlet.article_hosts[1]" in p and "bad.example" in p for p in problems)
    assert any("outlet.article_hosts[2]" in p for p in problems)
    assert not any("[0]" in p for p in problems)


def test_article_hosts_accept_international_names() -> None:
    policy = _policy(article_hosts=["Пример.рф"])

    assert policy.refusal("https://news.пример.рф/a/") is None
    assert origin_of("https://пример.рф/") == origin_of("https://xn--e1afmkfd.xn--p1ai:443/")
