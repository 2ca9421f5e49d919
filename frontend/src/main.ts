// Start-up and the readiness loop: ask /api/ready every few seconds; while the backend is
// down or not ready, a banner says so (and the last good view stays on the page); when a
// new release goes live, every panel reloads. The release history needs the Hub, so it loads
// on its own: a Hub outage (the backend serving from its cache or bundle) only costs that panel.

import "./style.css";
import { getModel, getModels, getReady, getVersion, UnreachableError } from "./api";
import { fill, h } from "./dom";
import { gatesOf, loadHistory } from "./history";
import { renderModelCard } from "./predict";
import { renderRelease } from "./release";

const RETRY_SECONDS = 3;
const WATCH_SECONDS = 15;

// The live release on the page: its sha, "bundled" for a release with no Hub commit,
// undefined before the first load.
let loadedSha: string | undefined;
let timer: number | undefined;
// One check at a time: "Retry now" during a check must not start a second loop.
let checking = false;

async function check(): Promise<void> {
  if (checking) return;
  checking = true;
  window.clearTimeout(timer);
  setRetryBusy(true);
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
        : `Unusable answer from the backend: ${err instanceof Error ? err.message : String(err)}.`;
    showBanner("down", message);
    schedule(RETRY_SECONDS, true);
  } finally {
    checking = false;
    setRetryBusy(false);
  }
}

/** Release and model panels first; each is drawn as soon as its answers are in. The history
 * is started alongside and never waited for. */
async function loadAll(): Promise<void> {
  const details = getModels().then((summaries) => Promise.all(summaries.map((m) => getModel(m.name))));
  const [version, models] = await Promise.allSettled([getVersion(), details]);
  if (version.status === "fulfilled") {
    renderRelease(version.value);
    loadHistory(version.value.sha, details.then(gatesOf));
  }
  if (models.status === "fulfilled") {
    const cards = models.value.map(renderModelCard);
    fill("models-panel", cards.length ? h("div", { class: "models" }, ...cards) : h("p", { class: "muted" }, "This release has no models."));
  }
  if (version.status === "rejected") throw version.reason;
  if (models.status === "rejected") throw models.reason;
  loadedSha = version.value.sha ?? "bundled";
  document.body.dataset.liveSha = loadedSha;
}

/** Check again after `seconds`; with `countdown`, the banner counts down to the retry. */
function schedule(seconds: number, countdown: boolean): void {
  let left = seconds;
  const tick = () => {
    if (left <= 0) return void check();
    if (countdown) countdownEl.textContent = `Checking again in ${left} s…`;
    left -= 1;
    timer = window.setTimeout(tick, 1000);
  };
  tick();
}

// The banner's message is a polite status region; the countdown and the button sit outside
// it, so a screen reader announces the message when it changes, not every second.
const banner = document.getElementById("status-banner") as HTMLElement;
const statusEl = document.getElementById("status-text") as HTMLElement;
const countdownEl = document.getElementById("status-countdown") as HTMLElement;
const retryButton = document.getElementById("retry-now") as HTMLButtonElement;
retryButton.addEventListener("click", () => void check());

function showBanner(state: "down" | "not-ready", message: string): void {
  const title = state === "down" ? "Backend unavailable. " : "Backend up but not ready: ";
  const stale = loadedSha ? " The panels below show the last answer received." : "";
  if (statusEl.textContent !== title + message + stale) {
    statusEl.replaceChildren(
      h("strong", {}, title),
      h("span", { "data-testid": "status-message" }, message),
      stale ? h("span", { class: "small" }, stale) : "",
    );
  }
  banner.dataset.state = state;
  countdownEl.hidden = false;
  retryButton.hidden = false;
}

function setRetryBusy(busy: boolean): void {
  retryButton.disabled = busy;
  if (busy) countdownEl.textContent = "Checking…";
}

function hideBanner(): void {
  banner.dataset.state = "ok";
  statusEl.replaceChildren();
  countdownEl.hidden = true;
  retryButton.hidden = true;
}

void check();
