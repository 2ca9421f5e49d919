// Panel 1: which release is live, where it came from, and whether it is the Hub's copy.

import type { Version } from "./api";
import { fill, formatDate, h, shortSha } from "./dom";

const SOURCE_WARNINGS: Record<string, string> = {
  cache:
    "Served from the backend's local Hub cache: the Hub did not answer when this release was " +
    "loaded, so a newer release may exist.",
  bundled:
    "Served from the model files bundled with the backend image: the Hub and its cache were " +
    "unavailable, so this may be an old release.",
};

export function renderRelease(version: Version): void {
  const shaText = h("code", {}, shortSha(version.sha));
  const sha = version.commit_url
    ? h("a", { href: version.commit_url, target: "_blank", rel: "noopener", "data-testid": "release-sha", title: version.sha ?? "" }, shaText)
    : h("span", { "data-testid": "release-sha", title: version.sha ?? "" }, shaText);

  const warning =
    version.source === "hub"
      ? null
      : h(
          "div",
          { class: "banner banner-warning", role: "status", "data-testid": "source-warning" },
          h("strong", {}, `Not served from the Hub (source: ${version.source}). `),
          SOURCE_WARNINGS[version.source] ?? "",
        );

  const row = (label: string, value: Node | string, testid: string) =>
    h("div", { class: "fact" }, h("dt", {}, label), h("dd", { "data-testid": testid }, value));

  fill(
    "release-panel",
    warning,
    h(
      "dl",
      { class: "facts" },
      row("Tag", h("span", { class: "tag" }, version.tag ?? "untagged"), "release-tag"),
      row("Release", version.release === null ? "—" : `#${version.release}`, "release-number"),
      h("div", { class: "fact" }, h("dt", {}, "Hub commit"), h("dd", {}, sha)),
      row("Trained at", formatDate(version.created_at), "release-created"),
      row("Source commit", h("code", { title: version.source_commit ?? "" }, shortSha(version.source_commit)), "release-source-commit"),
      row("Serving from", h("span", { class: `source source-${version.source}` }, version.source), "release-source"),
      row(
        "Signature",
        h(
          "span",
          {
            class: version.verified ? "signature signature-verified" : "signature signature-unverified",
            title: version.verified
              ? "The backend checked this release's signature (manifest.sig) before loading it."
              : "The backend has no verify key (HUBSHIP_VERIFY_KEY): it loaded this release without checking a signature.",
          },
          version.verified ? "verified" : "not verified",
        ),
        "release-verified",
      ),
      row("Repository", `${version.repo_id} @ ${version.revision}`, "release-repo"),
      row("Loaded at", formatDate(version.loaded_at), "release-loaded"),
    ),
  );
}
