// Panel 3: every release with its primary metrics, and each model's metric over time.

import { getReleases, type ModelDetail, type Release } from "./api";
import { type Gate, gateThreshold, lineChart, type Point } from "./chart";
import { fill, formatDate, formatNumber, h, shortSha } from "./dom";
import { isDirty, sourceCommitLabel } from "./labels";

/** Each live model's gate (its primary metric's tolerance and direction), by model name. */
export type Gates = Record<string, Gate>;

export function gatesOf(models: ModelDetail[]): Gates {
  return Object.fromEntries(
    models.map((m) => [m.name, { tolerance: m.primary_metric.tolerance, higherIsBetter: m.primary_metric.higher_is_better }]),
  );
}

const HISTORY_RETRY_SECONDS = 10;
// Each load gets a number; the answer of a load that a newer one replaced is dropped.
let generation = 0;
let retryTimer: number | undefined;
let drawn = false; // a history is on the panel (kept, marked stale, when a reload fails)

/** Fetch /releases and draw it. It needs the Hub, which may be down while the backend serves
 * from its cache or bundle: then this panel alone says so and tries again, while the rest of
 * the page works. The last history drawn stays until a new answer replaces it. */
export function loadHistory(liveSha: string | null, gates: Promise<Gates>): void {
  const mine = ++generation;
  window.clearTimeout(retryTimer);
  Promise.all([getReleases(), gates.catch(() => ({}))]).then(
    ([releases, knownGates]) => {
      if (mine === generation) renderHistory(releases, liveSha, knownGates);
    },
    (err: unknown) => {
      if (mine !== generation) return;
      const reason = (err instanceof Error ? err.message : String(err)).replace(/\.$/, "");
      const body = document.querySelector("#history-panel .panel-body");
      if (!drawn) body?.replaceChildren();
      body?.querySelector("[data-testid=history-error]")?.remove();
      body?.prepend(
        h(
          "div",
          { class: "banner banner-warning", role: "status", "data-testid": "history-error" },
          h("strong", {}, "Release history unavailable: "),
          `${reason}. `,
          h("span", { class: "small" }, `Trying again every ${HISTORY_RETRY_SECONDS} s.`),
        ),
      );
      retryTimer = window.setTimeout(() => loadHistory(liveSha, gates), HISTORY_RETRY_SECONDS * 1000);
    },
  );
}

function renderHistory(releases: Release[], liveSha: string | null, gates: Gates): void {
  drawn = true;
  if (releases.length === 0) {
    fill("history-panel", h("p", { class: "muted" }, "No release has been published yet."));
    return;
  }
  const models = [...new Set(releases.flatMap((r) => Object.keys(r.primary ?? {})))].sort();
  fill("history-panel", charts(releases, models, liveSha, gates), table(releases, models, liveSha));
}

/** The charts, drawn at the width they are shown at; drawn again when that width changes
 * (a phone turned sideways, a window resized), so their text keeps its size. */
function charts(releases: Release[], models: string[], liveSha: string | null, gates: Gates): HTMLElement {
  const live = releases.find((r) => r.sha === liveSha);
  const width = chartWidth(models.length);
  const shown = h("div", { class: "charts", "data-width": Math.round(width) },
    ...models.map((m) => modelChart(m, releases, gates[m], live ? releaseLabel(live) : undefined, width)));
  redraw = () => {
    if (shown.isConnected && Math.abs(chartWidth(models.length) - width) > 24) {
      shown.replaceWith(charts(releases, models, liveSha, gates));
    }
  };
  return shown;
}

let redraw = () => {};
let resizeTimer: number | undefined;
window.addEventListener("resize", () => {
  window.clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => redraw(), 150);
});

function releaseLabel(release: Release): string {
  return release.tag ?? (release.release === null ? shortSha(release.sha) : `v${release.release}`);
}

/** The width each chart is shown at, so its text is drawn at its real size: the panel's width
 * shared by as many 320 px columns as fit (the .charts grid in style.css). */
function chartWidth(count: number): number {
  const panel = document.querySelector("#history-panel .panel-body")?.clientWidth ?? 360;
  const gap = 16;
  const columns = Math.max(1, Math.min(count, Math.floor((panel + gap) / (320 + gap))));
  return (panel - gap * (columns - 1)) / columns - 2 * 14; // the card's padding and border
}

function modelChart(model: string, releases: Release[], gate: Gate | undefined, live: string | undefined, width: number): HTMLElement {
  const oldestFirst = [...releases].reverse();
  const points: Point[] = [];
  let metricName = "";
  let higherIsBetter = true;
  for (const release of oldestFirst) {
    const primary = release.primary?.[model];
    if (!primary || typeof primary.value !== "number") continue;
    metricName = primary.name;
    higherIsBetter = primary.higher_is_better;
    points.push({ label: releaseLabel(release), value: primary.value });
  }
  const direction = higherIsBetter ? "higher is better" : "lower is better";
  const title = `${model}: ${metricName} by release (${direction})`;
  const liveValue = points.find((p) => p.label === live)?.value;
  const drawnGate = gate && gate.tolerance > 0 && liveValue !== undefined ? gate : undefined;
  return h(
    "figure",
    { class: "chart-card", "data-testid": `history-chart-${model}` },
    h("figcaption", {}, h("strong", {}, model), ` · ${metricName}, ${direction}`),
    lineChart(points, { title, testid: `chart-${model}`, gate: drawnGate, live, width }),
    drawnGate && liveValue !== undefined
      ? h(
          "p",
          { class: "chart-legend", "data-testid": `gate-legend-${model}` },
          h("span", { class: "swatch swatch-band", "aria-hidden": "true" }),
          `Gate: the next release needs ${drawnGate.higherIsBetter ? "≥" : "≤"} ${formatNumber(gateThreshold(liveValue, drawnGate))} `,
          h("span", { class: "muted" }, `(${live} ${formatNumber(liveValue)} ${drawnGate.higherIsBetter ? "−" : "+"} tolerance ${formatNumber(drawnGate.tolerance)})`),
        )
      : null,
  );
}

/** "2026-11-05 14:03 UTC", broken (if it must be) between the day and the time. */
function dateLabel(iso: string): HTMLElement {
  const [day, ...time] = formatDate(iso).split(" ");
  return h("span", {}, h("span", { class: "nowrap" }, day), " ", h("span", { class: "nowrap" }, time.join(" ")));
}

function table(releases: Release[], models: string[], liveSha: string | null): HTMLElement {
  const metricOf = (m: string) => releases.find((r) => r.primary?.[m])?.primary[m]?.name ?? "";
  const head = h(
    "tr",
    {},
    h("th", { scope: "col" }, "Release"),
    h("th", { scope: "col" }, "Date"),
    ...models.map((m) => h("th", { scope: "col", class: "num" }, m, h("span", { class: "sub" }, metricOf(m)))),
    h("th", { scope: "col" }, "Source commit"),
    h("th", { scope: "col" }, "Notes"),
  );
  const rows = releases.map((release) => {
    const live = liveSha !== null && release.sha === liveSha;
    const notes = [
      live ? h("span", { class: "marker marker-live" }, "live") : null,
      release.forced ? h("span", { class: "marker marker-forced", title: "published although the gate refused it" }, "forced") : null,
      release.restores ? h("span", { class: "marker marker-restores" }, `restores ${release.restores}`) : null,
      release.title ? h("span", { class: "title" }, release.title) : null,
    ];
    return h(
      "tr",
      { "data-testid": "release-row", "data-sha": release.sha, class: live ? "live" : null },
      h("td", { class: "release-cell", "data-label": "Release" }, h("span", {}, h("span", { class: "tag" }, releaseLabel(release)), " ", h("code", { class: "muted", title: release.sha }, shortSha(release.sha)))),
      h("td", { "data-label": "Date" }, dateLabel(release.date)),
      ...models.map((m) => {
        const primary = release.primary?.[m];
        return h("td", { class: "num", "data-label": `${m} · ${metricOf(m)}` }, primary ? formatNumber(primary.value) : "—");
      }),
      h("td", { class: "nowrap", "data-label": "Source commit" }, sourceCommitLabel(release.source_commit, isDirty(release))),
      h("td", { class: "wrap", "data-label": "Notes" }, h("div", { class: "notes" }, ...notes)),
    );
  });
  return h(
    "div",
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Releases" },
    h("table", { class: "data stack history", "data-testid": "history-table" }, h("thead", {}, head), h("tbody", {}, ...rows)),
  );
}
