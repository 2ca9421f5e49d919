// Start-up and the readiness loop: ask /api/ready every few seconds; while the backend is
// down or not ready, a banner says so (and the last good view stays on the page); when a
// new release goes live, every panel reloads.

import "./style.css";
import { getModel, getModels, getReady, getReleases, getVersion, UnreachableError } from "./api";
import { fill, h } from "./dom";
import { renderHistory } from "./history";
import { renderModelCard } from "./predict";
import { renderRelease } from "./release";

const RETRY_SECONDS = 3;
const WATCH_SECONDS = 15;

// The live release on the page: its sha, "bundled" for a release with no Hub commit,
// undefined before the first load.
let loadedSha: string | undefined;
let timer: number | undefined;

async function check(): Promise<void> {
  window.clearTimeout(timer);
  try {
    const ready = await getReady();
    if (!ready.ready) {
      const reason = (ready.reason ?? "no model is loaded yet").replace(/\.$/, "");
      showBanner("not-ready", `${reason}.`);
      return schedule(RETRY_SECONDS, true);
    }
    if ((ready.sha ?? "bundled") !== loadedSha) await loadAll();
    hideBanner();
    schedule(WATCH_SECONDS, false);
  } catch (err) {
    const message =
      err instanceof UnreachableError
        ? `Cannot reach the backend: ${err.message}`
        : `The backend answered with an error: ${err instanceof Error ? err.message : String(err)}.`;
    showBanner("down", message);
    schedule(RETRY_SECONDS, true);
  }
}

async function loadAll(): Promise<void> {
  const [version, summaries, releases] = await Promise.all([getVersion(), getModels(), getReleases()]);
  const models = await Promise.all(summaries.map((m) => getModel(m.name)));
  renderRelease(version);
  fill(
    "models-panel",
    models.length ? h("div", { class: "models" }, ...models.map(renderModelCard)) : h("p", { class: "muted" }, "This release has no models."),
  );
  renderHistory(releases, version.sha);
  loadedSha = version.sha ?? "bundled";
  document.body.dataset.liveSha = loadedSha;
}

/** Check again after `seconds`; with `countdown`, the banner counts down to the retry. */
function schedule(seconds: number, countdown: boolean): void {
  let left = seconds;
  const tick = () => {
    if (left <= 0) return void check();
    if (countdown) setCountdown(`Checking again in ${left} s…`);
    left -= 1;
    timer = window.setTimeout(tick, 1000);
  };
  tick();
}

const banner = document.getElementById("status-banner") as HTMLElement;

function showBanner(state: "down" | "not-ready", message: string): void {
  const retry = h("button", { type: "button", class: "link", "data-testid": "retry-now" }, "Retry now");
  retry.addEventListener("click", () => void check());
  const stale = loadedSha ? h("span", { class: "small" }, " The panels below show the last answer received.") : "";
  banner.replaceChildren(
    h("strong", {}, state === "down" ? "Backend unavailable. " : "Backend up but not ready: "),
    h("span", { "data-testid": "status-message" }, message),
    " ",
    h("span", { class: "countdown", "data-testid": "status-countdown" }),
    " ",
    retry,
    stale,
  );
  banner.dataset.state = state;
  banner.hidden = false;
}

function setCountdown(text: string): void {
  const el = banner.querySelector(".countdown");
  if (el) el.textContent = text;
}

function hideBanner(): void {
  banner.hidden = true;
  banner.dataset.state = "ok";
}

void check();
