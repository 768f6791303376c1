"""feedparser's own test feeds (shared/corpus/feeds) through our fetch and parse layer.

The corpus is outside data and is not copied into the repository: it is read from
``$NEWSBOT_CORPUS_DIR/feeds`` or from ``shared/corpus/feeds`` next to the checkout,
and the tests skip when neither exists. Every file is parsed (no exception, no
internal parser failure, bounded time); a few header ``Expect:`` lines about values
our mapping exposes (titles, links) are checked against our result.
"""

from __future__ import annotations

import ast
import codecs
import importlib.util
import os
import re
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.domain import ParsedFeed
from scheduler.fetch import Fetcher, FetchError, FetchLimits
from scheduler.parse import parse_feed
from tests.fakes.feedserver import FeedServer


def _corpus_feeds() -> Path:
    configured = os.environ.get("NEWSBOT_CORPUS_DIR")
    if configured:
        return Path(configured) / "feeds"
    return Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "feeds"


FEEDS = _corpus_feeds()
pytestmark = pytest.mark.skipif(
    not FEEDS.is_dir(),
    reason=f"feed corpus not found at {FEEDS} (set NEWSBOT_CORPUS_DIR to the corpus folder)",
)

# Upstream serves its http tests from this base; we only use it as the document URL.
UPSTREAM_BASE = "http://127.0.0.1:8097/tests/"
# Generous for a loaded machine: these catch runaway (quadratic, backtracking) parses.
PER_FILE_SECONDS = 3.0
SWEEP_SECONDS = 60.0
_EXPECT = re.compile(r"Expect:\s*(.*)\s*-->")
_HEADER = re.compile(r"^Header:\s+([^:]+):(.+)$", re.MULTILINE)
_SKIP_UNLESS = re.compile(r"SkipUnless:\s*(.*?)\n")
_NEEDS_CODEC = re.compile(r"lookup\('([^']+)'\)")
_NEEDS_MODULE = re.compile(r"^__import__\('([^']+)'\)$")


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    body: bytes
    expect: str
    headers: dict[str, str]
    runnable: bool  # upstream's SkipUnless holds here

    @property
    def name(self) -> str:
        return self.path.relative_to(FEEDS).as_posix()

    @property
    def url(self) -> str:
        return UPSTREAM_BASE + self.name

    def parse(self) -> ParsedFeed:
        return parse_feed(self.body, self.headers, self.url)


def _header_text(body: bytes) -> str:
    """The comment header, decoded the way upstream's runner sniffs it."""
    for bom, codec in (
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\xfe\xff", "utf-16-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\x00\x00\x00<", "utf-32-be"),
        (b"<\x00\x00\x00", "utf-32-le"),
        (b"\x00<\x00?", "utf-16-be"),
        (b"<\x00?\x00", "utf-16-le"),
        (b"\x4c\x6f\xa7\x94", "cp037"),
    ):
        if body.startswith(bom):
            return body.decode(codec, "replace")
    return body.decode("utf-8", "replace")


def _corpus_files() -> Iterator[CorpusFile]:
    for path in sorted(FEEDS.rglob("*.xml")):
        body = path.read_bytes()
        text = _header_text(body)
        expect = _EXPECT.search(text)
        headers = {name.strip(): value.strip() for name, value in _HEADER.findall(text)}
        skip_unless = _SKIP_UNLESS.search(text)
        runnable = _requirement_met(skip_unless.group(1).strip()) if skip_unless else True
        yield CorpusFile(path, body, expect.group(1).strip() if expect else "", headers, runnable)


def _requirement_met(expression: str) -> bool:
    """Read upstream's SkipUnless without evaluating it: a codec or a module must exist.

    Other forms (Python version, feedparser attributes) hold on any supported setup.
    """
    codec = _NEEDS_CODEC.search(expression)
    if codec:
        try:
            codecs.lookup(codec.group(1))
        except LookupError:
            return False
        return True
    module = _NEEDS_MODULE.match(expression)
    return importlib.util.find_spec(module.group(1)) is not None if module else True


def test_every_corpus_feed_parses_within_bounds() -> None:
    problems: list[str] = []
    started = time.monotonic()
    count = 0
    for item in _corpus_files():
        count += 1
        before = time.monotonic()
        parsed = item.parse()
        elapsed = time.monotonic() - before
        if elapsed > PER_FILE_SECONDS:
            problems.append(f"{item.name}: took {elapsed:.2f} s")
        problems.extend(f"{item.name}: {issue}" for issue in _invariant_problems(parsed))
    total = time.monotonic() - started

    assert count > 2000, f"only {count} corpus files found under {FEEDS}"
    assert not problems, "\n".join(problems[:30])
    assert total < SWEEP_SECONDS


def _invariant_problems(parsed: ParsedFeed) -> Iterator[str]:
    """What must hold for any document, however broken."""
    if parsed.error and parsed.error.startswith("parser failed"):
        yield parsed.error
    if parsed.entries and parsed.error and not parsed.error.startswith("warning: "):
        yield f"entries kept with a non-warning error {parsed.error!r}"
    for entry in parsed.entries:
        if not (entry.url or entry.guid):
            yield "entry without url and guid"
        if entry.url and not entry.url.startswith(("http://", "https://")):
            yield f"non-http url {entry.url!r}"
        for stamp in (entry.published, entry.updated):
            if stamp is not None and stamp.utcoffset() is None:
                yield f"naive datetime {stamp!r}"
        if not all(isinstance(term, str) and term for term in entry.categories):
            yield f"bad categories {entry.categories!r}"


def test_wellformed_feeds_parse_without_error() -> None:
    """Files upstream expects ``not bozo`` give no error here either.

    CDF (a 1997 Microsoft format) is left out: feedparser reads it without naming a
    version, and a versionless document with no title and no entries is exactly what
    we report as "not a feed".
    """
    clean = [
        item
        for item in _corpus_files()
        if item.runnable
        and item.expect.startswith("not bozo")
        and "/cdf/" not in item.path.as_posix()
    ]
    failures = [
        f"{item.name}: {parsed.error}"
        for item in clean
        for parsed in [item.parse()]
        if parsed.error is not None
    ]

    assert len(clean) > 1500, f"only {len(clean)} well-formed files found"
    assert not failures, "\n".join(failures[:30])


@dataclass(frozen=True)
class ExpectedValue:
    file: CorpusFile
    field: str  # "feed.title" | "entry.title" | "entry.url"
    value: str


_FIELDS = {("feed", "title"): "feed.title", ("entry", "title"): "entry.title"}
_FIELDS[("entry", "link")] = "entry.url"


def _expected_values() -> Iterator[ExpectedValue]:
    """``x == 'literal'`` comparisons on titles and links in ``Expect:`` lines.

    Skipped on purpose: titles with markup or entities (we expose plain text, they
    expect feedparser's HTML), the sanitizer folder, and files with ``Header:`` lines.
    """
    for item in _corpus_files():
        skipped = not item.runnable or item.headers or "/sanitize/" in item.path.as_posix()
        if skipped or not item.expect:
            continue
        try:
            tree = ast.parse(item.expect, mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            found = _literal_comparison(node)
            if found and found[0] in _FIELDS and not re.search(r"[<>&]", found[1]):
                yield ExpectedValue(item, _FIELDS[found[0]], found[1])


def _literal_comparison(node: ast.AST) -> tuple[tuple[str, str], str] | None:
    """Match ``feed['k'] == 's'``, ``feed.k == 's'``, ``entries[0]['k'] == 's'``."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return None
    right = node.comparators[0]
    if not isinstance(node.ops[0], ast.Eq) or not isinstance(right, ast.Constant):
        return None
    if not isinstance(right.value, str):
        return None
    target = _target(node.left)
    return (target, right.value) if target else None


def _target(node: ast.expr) -> tuple[str, str] | None:
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        base, key = node.value, node.slice.value
    elif isinstance(node, ast.Attribute):
        base, key = node.value, node.attr
    else:
        return None
    if not isinstance(key, str):
        return None
    if isinstance(base, ast.Name) and base.id == "feed":
        return ("feed", key)
    first_entry = (
        isinstance(base, ast.Subscript)
        and isinstance(base.value, ast.Name)
        and base.value.id == "entries"
        and isinstance(base.slice, ast.Constant)
        and base.slice.value == 0
    )
    return ("entry", key) if first_entry else None


def test_expected_titles_and_links_match_our_mapping() -> None:
    checked = 0
    mismatches: list[str] = []
    for expected in _expected_values():
        parsed = expected.file.parse()
        if expected.field == "feed.title":
            actual = parsed.title
        elif not parsed.entries:
            continue  # the entry has neither link nor guid, so our mapping drops it
        elif expected.field == "entry.title":
            actual = parsed.entries[0].title
        else:
            actual = parsed.entries[0].url
        checked += 1
        if actual != " ".join(expected.value.split()):
            mismatches.append(
                f"{expected.file.name}: {expected.field} {actual!r} != {expected.value!r}"
            )

    assert checked >= 300, f"only {checked} Expect lines checked"
    assert not mismatches, "\n".join(mismatches)


# --- compression through the fetcher ---------------------------------------------------


@pytest.fixture
async def served() -> AsyncIterator[tuple[FeedServer, Fetcher]]:
    async with FeedServer() as server, aiohttp.ClientSession() as session:
        yield server, Fetcher(session, limits=FetchLimits(connect_timeout=2, total_timeout=2))


def _serve(server: FeedServer, name: str) -> tuple[str, bytes]:
    raw = (FEEDS / "compression" / name).read_bytes()
    encoding = "gzip" if name.endswith(".gz") else "deflate"
    server.set_feed(
        f"/{name}", raw, content_type="application/xml", headers={"Content-Encoding": encoding}
    )
    return server.url(f"/{name}"), raw


@pytest.mark.parametrize(
    ("name", "wbits"),
    [
        ("gzip.gz", 16 + zlib.MAX_WBITS),
        ("deflate.z", zlib.MAX_WBITS),
        ("deflate-no-headers.z", -15),
    ],
)
async def test_compressed_corpus_feeds_fetch_and_parse(
    served: tuple[FeedServer, Fetcher], name: str, wbits: int
) -> None:
    server, fetcher = served
    url, raw = _serve(server, name)

    result = await fetcher.fetch(url)
    parsed = parse_feed(result.body, result.headers, result.url)

    assert result.body == zlib.decompress(raw, wbits)
    assert result.body.startswith(b'<feed xmlns="http://www.w3.org/2005/Atom">')
    assert parsed.error is None and parsed.entries == ()


@pytest.mark.parametrize(
    "name", ["gzip-not-compressed.gz", "deflate-not-compressed.z", "gzip-struct-error.gz"]
)
async def test_broken_compressed_corpus_feeds_are_errors_not_crashes(
    served: tuple[FeedServer, Fetcher], name: str
) -> None:
    server, fetcher = served
    url, _ = _serve(server, name)

    with pytest.raises(FetchError, match="Content-Encoding"):
        await fetcher.fetch(url)
