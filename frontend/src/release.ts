// Panel 1: which release is live, where it came from, and whether it is the Hub's copy.

import type { Version } from "./api";
import { fill, formatDate, h, shortSha } from "./dom";
import { isDirty, sourceCommitLabel } from "./labels";

const SOURCE_WARNINGS: Record<string, string> = {
  cache:
    "Served from the backend's local Hub cache: the Hub did not answer when this release was " +
    "loaded, so a newer release may exist.",
  bundled:
    "Served from the model files bundled with the backend image: the Hub and its cache were " +
    "unavailable, so this may be an old release.",
};

const SIGNATURE_TITLES = {
  verified: "The backend checked this release's signature (manifest.sig) before loading it.",
  unverified:
    "The backend has no verify key (HUBSHIP_VERIFY_KEY): it loaded this release without checking a signature.",
};

export function renderRelease(version: Version): void {
  const shaText = h("code", {}, shortSha(version.sha));
  const sha = version.commit_url
    ? h("a", { href: version.commit_url, target: "_blank", rel: "noopener", "data-testid": "release-sha", title: version.sha ?? "" }, shaText)
    : h("span", { "data-testid": "release-sha", title: version.sha ?? "" }, shaText);
  const dirty = isDirty(version);

  const warning =
    version.source === "hub"
      ? null
      : h(
          "div",
          { class: "banner banner-warning", role: "status", "data-testid": "source-warning" },
          h("strong", {}, `Not served from the Hub (source: ${version.source}). `),
          SOURCE_WARNINGS[version.source] ?? "",
        );

  // What a person checks first: where it is served from, whether its signature was checked,
  // whether its source commit tells the whole story.
  const chips = h(
    "ul",
    { class: "chips", "aria-label": "Release status" },
    h(
      "li",
      { class: `chip ${version.source === "hub" ? "chip-ok" : "chip-warn"}` },
      "Serving from ",
      h("span", { class: `source source-${version.source}`, "data-testid": "release-source" }, version.source),
    ),
    h(
      "li",
      { class: `chip ${version.verified ? "chip-ok" : "chip-warn"}`, title: version.verified ? SIGNATURE_TITLES.verified : SIGNATURE_TITLES.unverified },
      "Signature ",
      h(
        "span",
        { class: version.verified ? "signature signature-verified" : "signature signature-unverified", "data-testid": "release-verified" },
        version.verified ? "verified" : "not verified",
      ),
    ),
    dirty
      ? h(
          "li",
          { class: "chip chip-warn", "data-testid": "release-dirty", title: "Trained from uncommitted changes: the source commit does not hold the code that made it." },
          "Uncommitted changes",
        )
      : null,
  );

  const row = (label: string, value: Node | string, testid?: string) =>
    h("div", { class: "fact" }, h("dt", {}, label), h("dd", { "data-testid": testid }, value));

  fill(
    "release-panel",
    warning,
    h(
      "div",
      { class: "release-hero" },
      h("span", { class: "tag", "data-testid": "release-tag" }, version.tag ?? "untagged"),
      h(
        "div",
        { class: "headline" },
        h("strong", { "data-testid": "release-number" }, version.release === null ? "Unnumbered release" : `Release #${version.release}`),
        h("span", { class: "muted small", "data-testid": "release-repo" }, `${version.repo_id} @ ${version.revision}`),
      ),
      chips,
    ),
    h(
      "dl",
      { class: "facts" },
      row("Hub commit", sha),
      row("Source commit", sourceCommitLabel(version.source_commit, dirty), "release-source-commit"),
      row("Trained at", formatDate(version.created_at), "release-created"),
      row("Loaded at", formatDate(version.loaded_at), "release-loaded"),
    ),
  );
}
