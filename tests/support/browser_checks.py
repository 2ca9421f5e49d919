"""What the browser tests check on every page a person looks at: it fits a desktop (1280 px)
and a phone (375 px) without scrolling sideways, axe-core finds nothing serious or critical,
and a screenshot at each width lands in test-artifacts/ for a person to look at.

axe-core is the frontend's npm dev dependency: the frontend's build (`ensure_built`, npm ci)
installs it on a fresh machine. It is evaluated into the page through the DevTools protocol,
which the pages' Content-Security-Policy (no inline scripts) does not apply to.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from hubship.frontend_server import ensure_built

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
AXE_JS = FRONTEND / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": 1280, "phone": 375}
BLOCKING = ("serious", "critical")


@cache
def axe_source() -> str:
    if not AXE_JS.is_file():
        ensure_built(FRONTEND)  # npm ci: axe-core is a dev dependency of the frontend
    return AXE_JS.read_text(encoding="utf-8")


def axe_findings(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is, one line each."""
    violations = page.evaluate(
        axe_source() + "\n;axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    return [f"{v['impact']} {v['id']}: {v['help']} at {v['targets']}"
            for v in violations if v["impact"] in BLOCKING]


def check_at_both_widths(page: Any, url: str, name: str, artifacts_dir: Path,
                         ready: Callable[[], None], *,
                         axe_at: tuple[int, ...] = tuple(WIDTHS.values())) -> None:
    """Load `url` at each width (a phone loads the page at its own width), wait for
    `ready()`, save `<name>-<width>.png`, check the fit, and run axe at the `axe_at` widths
    (a second run on the same page costs seconds and rarely finds more)."""
    for width in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        ready()
        page.screenshot(path=artifacts_dir / f"{name}-{width}.png", full_page=True)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} scrolls sideways at {width} px ({scroll_width})"
        if width in axe_at:
            assert axe_findings(page) == [], f"{name} at {width} px"
