"""Editor HTML (feed descriptions, excerpts) to plain text for summaries.

Feed HTML is outside input: broken, sometimes hostile, often double-escaped by CMS
plugins. The parser is lxml (libxml2 in recovery mode): it is linear on pathological
input where the stdlib ``html.parser`` goes quadratic (``"<a " * 20000`` takes it half a
minute). ``html_to_text`` never raises: if lxml refuses a document, a tag-stripping
fallback produces the text instead.
"""

from __future__ import annotations

import html as stdlib_html
import re
from typing import Any

import lxml.etree
import lxml.html

__all__ = ["html_to_text"]

#: Longer input is cut before parsing: a description is never this long.
MAX_INPUT_CHARS = 1_000_000


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_DROP = _names(
    """script style iframe frame frameset noscript template object embed applet svg math
    figcaption head title select button textarea canvas audio video"""
)
_BLOCK = _names(
    """p br div li ul ol h1 h2 h3 h4 h5 h6 blockquote section article header footer aside
    nav main pre hr table tr dl dt dd figure address fieldset form details summary body
    html center"""
)
_CELL = frozenset({"td", "th"})
_PARAGRAPH = "\x00"  # a marker no cleaned text can contain

# C0/C1 controls except tab/newline, lone surrogates, BOM, zero-width space, soft hyphen;
# the second form keeps the paragraph marker.
_JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffd\u200b\u00ad]")
_JUNK_KEEP_MARKER = re.compile(
    "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffd\u200b\u00ad]"
)
_CR = re.compile("\r\n?")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
_SPACE = re.compile(r"\s+")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_TAG_LIKE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_ANY_TAG = re.compile(r"<[^<>]*>")
_DANGEROUS = re.compile(r"<\s*/?\s*(?:script|style|iframe)", re.IGNORECASE)
_ENCODING_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)


def _clean(text: str, junk: re.Pattern[str] = _JUNK) -> str:
    return junk.sub("", _CR.sub("\n", text))


def _parse(markup: str) -> Any:
    """An lxml tree for ``markup``, or None when libxml2 finds nothing to parse."""
    parser = lxml.html.HTMLParser(
        recover=True, remove_comments=True, remove_pis=True, no_network=True, huge_tree=True
    )
    markup = _ENCODING_DECLARATION.sub("", markup)
    if not markup.strip():
        return None
    return lxml.html.document_fromstring(markup, parser=parser)


def _tree_text(root: Any) -> str:
    """Walk the tree once, emitting text, with paragraph markers around blocks."""
    pieces: list[str] = []
    walker = lxml.etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _DROP:
                walker.skip_subtree()
                continue
            if tag in _BLOCK:
                pieces.append(_PARAGRAPH)
            elif tag in _CELL:
                pieces.append(" ")
            if element.text:
                pieces.append(element.text)
        else:
            if tag in _BLOCK:
                pieces.append(_PARAGRAPH)
            elif tag in _CELL:
                pieces.append(" ")
            if element.tail:
                pieces.append(element.tail)
    return "".join(pieces)


def _strip_tags(markup: str) -> str:
    """Fallback when lxml refuses the input: drop anything tag-shaped, decode entities."""
    without_tags = _ANY_TAG.sub(" ", markup)
    return stdlib_html.unescape(without_tags).replace("<", " ")


def _markup_to_text(markup: str) -> str:
    try:
        root = _parse(markup)
        return "" if root is None else _tree_text(root)
    except (ValueError, TypeError, lxml.etree.LxmlError):
        return _strip_tags(markup).replace(_PARAGRAPH, " ")


def _normalise(text: str) -> str:
    """Collapse whitespace as a browser does, one blank line between paragraphs.

    A blank line inside a text node also separates paragraphs: descriptions stored
    without ``<p>`` tags keep their paragraphs that way.
    """
    paragraphs = []
    for chunk in _BLANK_LINE.sub(_PARAGRAPH, text).split(_PARAGRAPH):
        collapsed = _SPACE.sub(" ", chunk).strip()
        if collapsed:
            paragraphs.append(collapsed)
    return "\n\n".join(paragraphs)


def _unescape_twice_encoded(text: str) -> str:
    """``&amp;amp;`` and ``&amp;#8217;`` arrive decoded once as ``&amp;``/``&#8217;``;
    decode well-formed entities once more. One extra round only: a text that spells out
    an entity on purpose survives at its second level."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda match: stdlib_html.unescape(match.group()), text)


def _defuse(text: str) -> str:
    """Plain text must never carry an executable-looking tag, even one that was
    entity-escaped in the source; removal repeats because it can create new ones."""
    while _DANGEROUS.search(text):
        text = _DANGEROUS.sub("", text)
    return text


def html_to_text(html: str) -> str:
    """Editor HTML to plain text: paragraphs separated by a blank line, inline spacing
    collapsed, script/style/iframe/caption contents dropped, entities decoded (also
    twice-escaped ones), control characters and lone surrogates removed.

    Escaped markup (``&lt;p&gt;…``, as some CMS plugins double-encode descriptions) is
    parsed a second time. Never raises on any ``str`` input.
    """
    if not html:
        return ""
    text = _markup_to_text(_clean(html[:MAX_INPUT_CHARS]))
    text = _clean(_unescape_twice_encoded(text), _JUNK_KEEP_MARKER)
    if _TAG_LIKE.search(text):
        text = _markup_to_text(text.replace(_PARAGRAPH, "<br>"))
        text = _clean(text, _JUNK_KEEP_MARKER)
    return _defuse(_normalise(text))
