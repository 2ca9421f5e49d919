// Panel 3: every release with its primary metrics, and each model's metric over time.

import { getReleases, type Release } from "./api";
import { lineChart, type Point } from "./chart";
import { fill, formatDate, formatNumber, h, shortSha } from "./dom";

const HISTORY_RETRY_SECONDS = 10;
// Each load gets a number; the answer of a load that a newer one replaced is dropped.
let generation = 0;
let retryTimer: number | undefined;
let drawn = false; // a history is on the panel (kept, marked stale, when a reload fails)

/** Fetch /releases and draw it. It needs the Hub, which may be down while the backend serves
 * from its cache or bundle: then this panel alone says so and tries again, while the rest of
 * the page works. The last history drawn stays until a new answer replaces it. */
export function loadHistory(liveSha: string | null): void {
  const mine = ++generation;
  window.clearTimeout(retryTimer);
  getReleases().then(
    (releases) => {
      if (mine === generation) renderHistory(releases, liveSha);
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
      retryTimer = window.setTimeout(() => loadHistory(liveSha), HISTORY_RETRY_SECONDS * 1000);
    },
  );
}

function renderHistory(releases: Release[], liveSha: string | null): void {
  drawn = true;
  if (releases.length === 0) {
    fill("history-panel", h("p", { class: "muted" }, "No release has been published yet."));
    return;
  }
  const models = [...new Set(releases.flatMap((r) => Object.keys(r.primary ?? {})))].sort();
  fill("history-panel", h("div", { class: "charts" }, ...models.map((m) => modelChart(m, releases))), table(releases, models, liveSha));
}

function releaseLabel(release: Release): string {
  return release.tag ?? (release.release === null ? shortSha(release.sha) : `v${release.release}`);
}

function modelChart(model: string, releases: Release[]): HTMLElement {
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
  const title = `${model}: ${metricName} by release`;
  return h(
    "figure",
    { class: "chart-card", "data-testid": `history-chart-${model}` },
    lineChart(points, { title, testid: `chart-${model}` }),
    h("figcaption", {}, h("strong", {}, model), ` · ${metricName} (${higherIsBetter ? "higher" : "lower"} is better)`),
  );
}

function table(releases: Release[], models: string[], liveSha: string | null): HTMLElement {
  const head = h(
    "tr",
    {},
    h("th", {}, "Release"),
    h("th", {}, "Date"),
    ...models.map((m) => h("th", {}, m)),
    h("th", {}, "Source commit"),
    h("th", {}, "Notes"),
  );
  const rows = releases.map((release) => {
    const live = liveSha !== null && release.sha === liveSha;
    const notes = [
      live ? h("span", { class: "marker marker-live" }, "live") : null,
      release.forced ? h("span", { class: "marker marker-forced", title: "published although the gate refused it" }, "forced") : null,
      release.restores ? h("span", { class: "marker marker-restores" }, `restores ${release.restores}`) : null,
    ];
    return h(
      "tr",
      { "data-testid": "release-row", "data-sha": release.sha, class: live ? "live" : null },
      h("td", {}, h("span", { class: "tag" }, releaseLabel(release)), " ", h("code", { class: "muted", title: release.sha }, shortSha(release.sha))),
      h("td", {}, formatDate(release.date)),
      ...models.map((m) => {
        const primary = release.primary?.[m];
        return h("td", { class: "num" }, primary ? `${primary.name} ${formatNumber(primary.value)}` : "—");
      }),
      h("td", {}, h("code", { title: release.source_commit ?? "" }, shortSha(release.source_commit))),
      h("td", {}, ...notes, release.title ? h("span", { class: "muted small" }, ` ${release.title}`) : null),
    );
  });
  return h(
    "div",
    { class: "table-wrap" },
    h("table", { class: "history", "data-testid": "history-table" }, h("thead", {}, head), h("tbody", {}, ...rows)),
  );
}
