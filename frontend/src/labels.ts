// Short labels for long names, each with the full text on hover: estimator class paths and
// source commits (marked when the release was trained from uncommitted changes).

import { h, shortSha } from "./dom";

/** "sklearn.pipeline.Pipeline[sklearn.linear_model._ridge.Ridge]" -> "Ridge (Pipeline)":
 * the class that predicts first, its wrapper after. */
export function shortEstimator(path: string): string {
  const className = (dotted: string) => dotted.trim().split(".").pop() || dotted.trim();
  const wrapped = /^([^[\]]+)\[(.+)\]$/.exec(path.trim());
  if (!wrapped) return className(path);
  return `${shortEstimator(wrapped[2])} (${className(wrapped[1])})`;
}

export function estimatorLabel(path: string): HTMLElement {
  return h("abbr", { class: "estimator", title: path, "data-testid": "estimator" }, shortEstimator(path));
}

/** Whether the release (a /version or /releases answer) was trained from a tree with
 * uncommitted changes: its `source_dirty` (the manifest's git_dirty), read whether or not the
 * backend in front of this page sends it yet. */
export function isDirty(data: object): boolean {
  return (data as { source_dirty?: unknown }).source_dirty === true;
}

const DIRTY_TITLE =
  "Trained from uncommitted changes: this commit does not hold the code and data that made the release.";

/** "807c12b", or "807c12b+dirty" with the mark explained on hover. */
export function sourceCommitLabel(sourceCommit: string | null | undefined, dirty: boolean): HTMLElement {
  return h(
    "span",
    { class: "source-commit" },
    h("code", { title: sourceCommit ?? "no source commit recorded" }, shortSha(sourceCommit)),
    dirty ? h("span", { class: "dirty", title: DIRTY_TITLE, "data-testid": "dirty-marker" }, "+dirty") : null,
  );
}
