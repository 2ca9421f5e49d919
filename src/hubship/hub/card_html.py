"""A repo's model card (README.md) as HTML for the hub's repo page, with its plots shown.

Rendered with markdown-it-py (CommonMark plus tables), raw HTML off: the card is whatever was
pushed, and the page must not run or style anything from it. Relative links and images point
at the file at the shown commit (`/<repo>/resolve/<sha>/<path>`, as on huggingface.co, where
the card's `plots/<name>.png` are shown beside the text). Table cells' alignment becomes a
class, not a `style` attribute, so the page's Content-Security-Policy needs no inline styles.
The YAML metadata block is not Markdown: it is split off and shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# The metadata block the Hub reads: "---" lines around YAML at the very top (huggingface_hub's
# repocard.REGEX_YAML_BLOCK).
_METADATA = re.compile(r"^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$))")
_ALIGN = re.compile(r"text-align:(left|right|center)")


@dataclass(frozen=True)
class RenderedCard:
    metadata: str  # the YAML block's text, "" when there is none
    html: str


def render_card(text: str, *, file_url: Callable[[str], str]) -> RenderedCard:
    """`text` (a README.md) as HTML; `file_url(path)` is the URL of a file of the repo."""
    metadata = ""
    found = _METADATA.match(text)
    if found:
        metadata, text = found.group(2), text[found.end():]
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.core.ruler.push("hubship_card", lambda state: _adapt(state, file_url))
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("table_close", lambda *args: "</table></div>\n")
    return RenderedCard(metadata=metadata, html=md.render(text))


def _adapt(state: StateCore, file_url: Callable[[str], str]) -> None:
    """Relative links and images to the repo's files; alignment to classes."""
    for token in _walk(state.tokens):
        if token.type == "image":
            token.attrSet("src", _repo_url(str(token.attrGet("src") or ""), file_url))
        elif token.type == "link_open":
            token.attrSet("href", _repo_url(str(token.attrGet("href") or ""), file_url))
        elif token.type in ("th_open", "td_open"):
            style = str(token.attrGet("style") or "")
            if (align := _ALIGN.search(style)) is not None:
                token.attrs.pop("style", None)
                token.attrSet("class", f"align-{align.group(1)}")


def _walk(tokens: list[Token]) -> list[Token]:
    found = []
    for token in tokens:
        found.append(token)
        if token.children:
            found.extend(_walk(token.children))
    return found


def _repo_url(url: str, file_url: Callable[[str], str]) -> str:
    """A path inside the repo ("plots/a.png", "./docs/x.md") as the file's URL; anything
    else (absolute, another site, "#section") as it was."""
    parts = urlsplit(url)
    if not url or parts.scheme or parts.netloc or url.startswith(("/", "#", "?")):
        return url
    path = parts.path.removeprefix("./")
    return file_url(quote(path, safe="/")) + (f"#{parts.fragment}" if parts.fragment else "")


def _table_open(renderer: object, tokens: list[Token], idx: int, options: object,
                env: object) -> str:
    """Wide tables scroll inside their box on a phone; a scrolling box must be focusable
    (keyboard users scroll it), so it has a tab stop and a name: its section's heading."""
    number = 1 + sum(1 for t in tokens[:idx] if t.type == "table_open")
    heading = next((tokens[i + 1].content for i in range(idx - 1, -1, -1)
                    if tokens[i].type == "heading_open"), "")
    label = escape(f"Table {number}" + (f": {heading}" if heading else ""), quote=True)
    return f'<div class="table-scroll" tabindex="0" role="region" aria-label="{label}"><table>\n'
