"""HTML pages so a person can see what was published: `/` lists the repos, `/<repo>` shows
one repo's model card (rendered, with its plots), branches, tags, files and commits, and
`/<repo>/commit/<sha>` the same at one commit (the backend's /version links there).

Styled like the frontend: the same stylesheet (site.css, a copy of the frontend's) plus this
page's few rules (pages.css), inlined and allowed by hash in a strict Content-Security-Policy
(no scripts, images from the hub only)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from functools import cache
from html import escape
from importlib.resources import files
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hubship.hub.card_html import render_card
from hubship.hub.deps import StoreDep, is_authorized, readable_repo
from hubship.hub.records import FileEntry, Repo
from hubship.hub.storage import DEFAULT_BRANCH, Store

router = APIRouter()

CARD_FILE = "README.md"
MAX_CARD_BYTES = 1_000_000  # a bigger README is linked, not rendered


@cache
def _style() -> tuple[str, str]:
    """The pages' CSS and its Content-Security-Policy."""
    here = files("hubship.hub")
    css = (here / "site.css").read_text(encoding="utf-8") + (here / "pages.css").read_text(
        encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self' data:; "
           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return css, csp


def _page(title: str, body: str, *, subtitle: str = "hub") -> HTMLResponse:
    css, csp = _style()
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8><link rel=icon href='data:,'>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{css}</style></head><body>"
        '<header class=page-header><div class=page-header-inner><h1><a href="/">'
        '<span class=brand-mark aria-hidden=true>◆</span> hubship '
        f"<span class=subtitle>{escape(subtitle)}</span></a></h1></div></header>"
        f"<main>{body}</main></body></html>",
        headers={"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff"},
    )


def _table(headers: list[str], rows: list[list[str]], empty: str, *, label: str,
           stack: bool = False) -> str:
    """A table that wraps at any width; with `stack`, each row is a card on a phone, every
    cell naming its column."""
    if not rows:
        return f"<p class=muted>{escape(empty)}</p>"
    head = "".join(f"<th scope=col>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td data-label="{escape(h)}">{cell}</td>'
                         for h, cell in zip(headers, row, strict=True)) + "</tr>"
        for row in rows
    )
    classes = "data stack" if stack else "data"
    return (f'<div class=table-wrap><table class="{classes}" aria-label="{escape(label)}">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def _panel(title: str, content: str, *, extra: str = "") -> str:
    return (f'<section class="panel {extra}"><div class=panel-head><h2>{escape(title)}</h2>'
            f"</div>{content}</section>")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, store: StoreDep) -> HTMLResponse:
    """Every repo the caller may see."""
    show_private = is_authorized(request)
    rows = [
        [f'<a href="/{escape(r.repo_id)}">{escape(r.repo_id)}</a>', _visibility(r),
         _date(r.created_at)]
        for r in store.list_repos() if show_private or not r.private
    ]
    table = _table(["repo", "visibility", "created"], rows, "No repos yet.", label="Repos",
                   stack=True)
    return _page("hubship hub", _panel("Repositories", table))


@router.get("/{namespace:seg}/{name:seg}", response_class=HTMLResponse, include_in_schema=False)
def repo_page(namespace: str, name: str, request: Request, store: StoreDep) -> HTMLResponse:
    """One repo at the head of main: card, refs, files and main's history."""
    repo = readable_repo(namespace, name, request)
    return _repo_view(store, repo, store.resolve(repo, DEFAULT_BRANCH), at_head=True)


@router.get("/{namespace:seg}/{name:seg}/commit/{revision:seg}", response_class=HTMLResponse,
            include_in_schema=False)
def commit_page(namespace: str, name: str, revision: str, request: Request,
                store: StoreDep) -> HTMLResponse:
    """One repo at one commit (or tag, or branch): its card, files and history."""
    repo = readable_repo(namespace, name, request)
    return _repo_view(store, repo, store.resolve(repo, revision), at_head=False)


def _repo_view(store: Store, repo: Repo, sha: str, *, at_head: bool) -> HTMLResponse:
    repo_id = escape(repo.repo_id)
    refs = store.refs(repo)
    commits = store.history(repo, sha, limit=200)
    entries = store.files(repo, sha)
    tags_here = [r.name for r in refs if r.kind == "tag" and r.target == sha]
    where = ("main at" if at_head else "commit") + f" <code title={sha}>{sha[:12]}</code>"
    chips = "".join(f"<li class='chip chip-ok'>{escape(t)}</li>" for t in tags_here)
    title = commits[0].title if commits else ""
    head = (
        f"<nav class='crumbs small' aria-label=Breadcrumb><a href='/'>All repos</a> / "
        f"<a href='/{repo_id}'>{repo_id}</a></nav>"
        f"<div class=repo-title><h1>{repo_id}</h1><ul class=chips aria-label=About>"
        f"<li class=chip>{_visibility(repo)}</li>{chips}</ul></div>"
        f"<p class='muted repo-where'>{where}"
        + (f" · {escape(title)}" if title else "") + "</p>"
    )
    ref_rows = [[escape(r.kind), f"<code>{escape(r.name)}</code>", _commit_link(repo, r.target)]
                for r in refs]
    file_rows = [[_file_link(repo, sha, f), f"<span class=nowrap>{_size(f.size)}</span>"]
                 for f in entries]
    commit_rows = [[_commit_link(repo, c.oid), escape(c.title), _date(c.created_at)]
                   for c in commits]
    side = (
        _panel("Branches and tags", _table(["kind", "name", "commit"], ref_rows, "No refs.",
                                           label="Branches and tags"))
        + _panel("Files", _table(["path", "size"], file_rows, "No files yet.", label="Files"))
    )
    body = (
        head
        + f"<div class=repo-layout><div class=repo-main>{_card(store, repo, sha, entries)}</div>"
        f"<div class=repo-side>{side}</div></div>"
        + _panel("Commits" + (" on main" if at_head else ""),
                 _table(["commit", "title", "date"], commit_rows, "", label="Commits",
                        stack=True))
    )
    return _page(repo.repo_id, body)


def _card(store: Store, repo: Repo, sha: str, entries: list[FileEntry]) -> str:
    entry = next((e for e in entries if e.path == CARD_FILE), None)
    if entry is None:
        return _panel("Model card", f"<p class=muted>This commit has no {CARD_FILE}.</p>")
    base = f"/{escape(repo.repo_id)}/resolve/{sha}"
    if entry.size > MAX_CARD_BYTES:
        return _panel("Model card", f"<p><a href='{base}/{CARD_FILE}'>{CARD_FILE}</a> "
                                    f"({_size(entry.size)}) is too large to show here.</p>")
    path = store.lfs.path(entry.lfs) if entry.lfs else store.blobs.path(entry.oid)
    text = path.read_bytes().decode("utf-8", errors="replace")
    card = render_card(text, file_url=lambda p: f"{base}/{p}")
    metadata = (f"<details class=card-metadata><summary>Card metadata (YAML)</summary>"
                f"<pre><code>{escape(card.metadata)}</code></pre></details>"
                if card.metadata.strip() else "")
    return _panel("Model card", f"<article class=prose>{card.html}</article>{metadata}",
                  extra="card-panel")


def _visibility(repo: Repo) -> str:
    return "private" if repo.private else "public"


def _commit_link(repo: Repo, oid: str) -> str:
    return (f"<a href='/{escape(repo.repo_id)}/commit/{oid}' title={oid}>"
            f"<code>{oid[:12]}</code></a>")


def _file_link(repo: Repo, sha: str, entry: FileEntry) -> str:
    href = f"/{repo.repo_id}/resolve/{sha}/{quote(entry.path)}"
    return f'<a class=path href="{escape(href)}">{escape(entry.path)}</a>'


def _date(iso: str) -> str:
    """"2026-11-05 14:03 UTC", as the frontend shows dates; the exact time on hover."""
    try:
        moment = datetime.fromisoformat(iso).astimezone(UTC)
    except ValueError:
        return escape(iso)
    return f"<time class=nowrap datetime={escape(iso)} title={escape(iso)}>" \
           f"{moment:%Y-%m-%d %H:%M} UTC</time>"


def _size(size: int) -> str:
    """1234567 -> "1.2 MB" (SI units, as huggingface.co shows sizes)."""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
