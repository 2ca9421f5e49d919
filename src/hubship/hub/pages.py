"""Plain HTML pages so a person can see what was published: `/` lists the repos, and
`/<namespace>/<name>` shows one repo's branches, tags, files and commits."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hubship.hub.deps import StoreDep, is_authorized, readable_repo
from hubship.hub.storage import DEFAULT_BRANCH

router = APIRouter()

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}
code{font-size:.9em}.muted{color:#777}
"""


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p class=muted>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, store: StoreDep) -> HTMLResponse:
    """Every repo the caller may see."""
    show_private = is_authorized(request)
    rows = [
        [f'<a href="/{escape(r.repo_id)}">{escape(r.repo_id)}</a>',
         "private" if r.private else "public", escape(r.created_at)]
        for r in store.list_repos() if show_private or not r.private
    ]
    return _page("hubship hub", "<h1>hubship hub</h1>"
                 + _table(["repo", "visibility", "created"], rows, "No repos yet."))


@router.get("/{namespace:seg}/{name:seg}", response_class=HTMLResponse, include_in_schema=False)
def repo_page(namespace: str, name: str, request: Request, store: StoreDep) -> HTMLResponse:
    """One repo: refs, the files at the head of main, and main's history."""
    repo = readable_repo(namespace, name, request)
    refs = store.refs(repo)
    head = store.resolve(repo, DEFAULT_BRANCH)
    base = f"/{escape(repo.repo_id)}/resolve"
    ref_rows = [[escape(r.kind), f"<code>{escape(r.name)}</code>", f"<code>{r.target}</code>"]
                for r in refs]
    file_rows = [[f'<a href="{base}/{head}/{escape(f.path)}">{escape(f.path)}</a>', str(f.size),
                  f"<code>{f.oid}</code>"] for f in store.files(repo, head)]
    commit_rows = [[f"<code>{c.oid[:12]}</code>", escape(c.title), escape(c.created_at)]
                   for c in store.history(repo, head, limit=200)]
    body = (
        f"<p><a href='/'>all repos</a></p><h1>{escape(repo.repo_id)}</h1>"
        f"<p class=muted>{'private' if repo.private else 'public'} · "
        f"main at <code>{head}</code></p>"
        "<h2>Branches and tags</h2>" + _table(["kind", "name", "commit"], ref_rows, "No refs.")
        + "<h2>Files on main</h2>" + _table(["path", "bytes", "oid"], file_rows, "No files yet.")
        + "<h2>Commits on main</h2>" + _table(["commit", "title", "date"], commit_rows, "")
    )
    return _page(repo.repo_id, body)
