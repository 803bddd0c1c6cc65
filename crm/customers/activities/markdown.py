"""Markdown of notes and activity texts, turned into HTML that is safe to show.

The source is kept as typed; it is rendered whenever it is shown, with the ``markdown`` package, and
the result is sanitised with ``nh3``: only formatting tags survive, scripts and styles go with their
content, event-handler attributes are dropped and links may only be http, https or mailto.
"""

from __future__ import annotations

import html
import threading
from functools import lru_cache

import markdown as markdown_lib
import nh3

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
EXTENSIONS = ["sane_lists", "nl2br", "fenced_code", "tables"]
MAX_SOURCE = 100_000
CACHED_SOURCE = 4_000  # texts up to this length keep their HTML in a per-process cache (timelines repeat)


_local = threading.local()


def _converter() -> markdown_lib.Markdown:
    """One converter per thread, reset between texts: building one (loading its extensions) costs
    more than converting a typical note."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = markdown_lib.Markdown(extensions=EXTENSIONS, output_format="html")
    return converter


def render(source: str) -> str:
    """Sanitised HTML of a Markdown text (an empty string for an empty text)."""
    if not source or not source.strip():
        return ""
    if len(source) <= CACHED_SOURCE:
        return _render_cached(source)
    return _render(source)


@lru_cache(maxsize=4096)
def _render_cached(source: str) -> str:
    return _render(source)


def _render(source: str) -> str:
    raw = _converter().reset().convert(source[:MAX_SOURCE])
    return nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(source: str, *, limit: int = 0) -> str:
    """The text of a Markdown source without any markup, for notifications, emails and calendars."""
    text = html.unescape(nh3.clean(render(source), tags=set(), clean_content_tags={"script", "style"}))
    text = " ".join(text.split())
    if limit and len(text) > limit:
        return text[: limit - 1].rstrip() + "…"
    return text
