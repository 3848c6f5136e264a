"""Staff-written Markdown turned into HTML that cannot run script, whatever was typed."""

import html
from dataclasses import dataclass

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions.toc import TocExtension, slugify_unicode

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "li", "ol", "p", "pre", "strong", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
ALLOWED_URL_SCHEMES = {"https", "http", "mailto", "tel"}
EXTENSIONS = ["sane_lists", "smarty"]


def render_markdown(text: str) -> SafeString:
    return _sanitise(markdown.markdown(text, extensions=EXTENSIONS, output_format="html"), heading_ids=set())


# Headings of an article or condition get ids for its contents list. Every id starts with this
# prefix, so a heading such as "Main" can never take an id the page itself uses (#main).
HEADING_ID_PREFIX = "section-"
HEADING_ID_TAGS = {"h2", "h3"}


@dataclass(frozen=True)
class ContentsEntry:
    """One heading of a page's contents list: its id (the link's target), its text, its subheadings."""

    id: str
    title: str
    children: tuple["ContentsEntry", ...] = ()


@dataclass(frozen=True)
class Document:
    html: SafeString
    contents: tuple[ContentsEntry, ...]


def _heading_slug(value: str, separator: str) -> str:
    return HEADING_ID_PREFIX + slugify_unicode(value, separator)


def _contents(tokens: list[dict]) -> tuple[ContentsEntry, ...]:
    # A token's "name" is the heading's text with HTML entities (smarty's quotes); the template escapes it.
    return tuple(
        ContentsEntry(id=token["id"], title=html.unescape(token["name"]), children=_contents(token["children"]))
        for token in tokens
    )


def render_document(text: str) -> Document:
    """A body with ids on its second- and third-level headings, and the contents list linking to them."""
    converter = markdown.Markdown(
        extensions=[*EXTENSIONS, TocExtension(marker="", toc_depth="2-3", slugify=_heading_slug)],
        output_format="html",
    )
    rendered = converter.convert(text)
    contents = _contents(converter.toc_tokens)  # type: ignore[attr-defined]
    wanted = {entry.id for entry in contents} | {child.id for entry in contents for child in entry.children}
    return Document(html=_sanitise(rendered, heading_ids=wanted), contents=contents)


def _sanitise(rendered: str, *, heading_ids: set[str]) -> SafeString:
    """The allow-list; ids only on h2/h3 and only those in `heading_ids`, each once, so nothing
    typed (raw HTML included) can duplicate or take over an id of the page."""
    kept: set[str] = set()

    def keep_listed_ids(tag: str, attribute: str, value: str) -> str | None:
        if attribute != "id":
            return value
        if tag in HEADING_ID_TAGS and value in heading_ids and value not in kept:
            kept.add(value)
            return value
        return None

    cleaned = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes={**ALLOWED_ATTRIBUTES, **{tag: {"id"} for tag in HEADING_ID_TAGS}},
        attribute_filter=keep_listed_ids,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 with the allow-list above
