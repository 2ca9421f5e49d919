"""The model card: README.md with metadata the Hub renders, and one plot per model.

`write_card(...)` writes `README.md` and `plots/<name>.png` into a directory. The metadata is
built with `huggingface_hub.ModelCardData` and `EvalResult` (so `model-index` has the shape the
Hub expects); the body is Markdown. Plots are drawn with matplotlib's headless Agg backend and
saved without a timestamp or version stamp, so an unchanged release gives identical bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hubship.manifest import CARD_FILE, Manifest, ModelEntry

if TYPE_CHECKING:
    from huggingface_hub import ModelCardData

PLOTS_DIR = "plots"
TASK_TYPES = {"classification": "tabular-classification", "regression": "tabular-regression"}


def plot_path(name: str) -> str:
    return f"{PLOTS_DIR}/{name}.png"


def write_card(
    out_dir: Path,
    manifest: Manifest,
    release_dir: Path,
    *,
    repo_id: str,
    previous: Manifest | None = None,
    gate_markdown: str | None = None,
) -> list[str]:
    """Write README.md and the plots for `manifest`, drawn from the models in `release_dir`.

    `release_dir` is the publisher's private staged copy, checked before it was staged (a
    rollback's target: signature included); it is read through `hubship.release` again, so a
    model from another scikit-learn is never loaded (IncompatibleRelease). Returns the
    written paths, relative to `out_dir`.
    """
    from hubship.release import LOCAL, check

    out_dir = Path(out_dir)
    checked = check(release_dir, LOCAL, origin=f"the release in {release_dir}")
    written = []
    for name, entry in manifest.models.items():
        target = out_dir / plot_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        draw_plot(entry, checked.load(name), release_dir, target, title=name)
        written.append(plot_path(name))
    text = render_card(manifest, repo_id=repo_id, previous=previous, gate_markdown=gate_markdown)
    (out_dir / CARD_FILE).write_text(text, encoding="utf-8")
    return [CARD_FILE, *written]


def card_data(manifest: Manifest, *, repo_id: str) -> ModelCardData:
    """`ModelCardData` with library_name, tags and a model-index entry for every metric."""
    from huggingface_hub import EvalResult, ModelCardData

    results = [
        EvalResult(
            task_type=TASK_TYPES[entry.task], task_name=f"{name} ({entry.task})",
            dataset_type="holdout", dataset_name=f"{name} holdout set", dataset_split="holdout",
            metric_type=metric, metric_name=metric, metric_value=round(value, 6),
        )
        for name, entry in manifest.models.items()
        for metric, value in sorted(entry.metrics.items())
    ]
    tags = ["hubship", "tabular", *sorted({TASK_TYPES[e.task] for e in manifest.models.values()})]
    if manifest.release is not None:
        tags.append(f"release-v{manifest.release}")
    return ModelCardData(
        library_name="sklearn", tags=tags, model_name=repo_id.split("/")[-1],
        eval_results=results,
        metrics=sorted({m for e in manifest.models.values() for m in e.metrics}),
    )


def render_card(
    manifest: Manifest, *, repo_id: str, previous: Manifest | None = None,
    gate_markdown: str | None = None,
) -> str:
    from huggingface_hub import ModelCard

    release = f"v{manifest.release}" if manifest.release else "unreleased"
    parts = [f"# {repo_id} — {release}", ""]
    if manifest.forced:
        parts += ["> **FORCED release**: the champion/challenger gate refused this release and "
                  "a person published it anyway (`--force`).", ""]
    if manifest.restores:
        parts += [f"> **Rollback**: this release restores the models of `{manifest.restores}`.",
                  ""]
    parts += ["scikit-learn models published by hubship as one atomic release. "
              "Load one with `hubship.release.open_release`, which checks the signature "
              "(`manifest.sig`, when signed) and every sha256 in `manifest.json` before it "
              "loads a model.", ""]
    parts += ["## Models and metrics", "", _metrics_table(manifest, previous), ""]
    if gate_markdown:
        parts += ["## Gate (champion vs challenger, scored at publish)", "", gate_markdown, ""]
    for name, entry in manifest.models.items():
        parts += _model_section(name, entry)
    parts += _provenance(manifest)
    body = "\n".join(parts)
    data = card_data(manifest, repo_id=repo_id)
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}"))


def _metrics_table(manifest: Manifest, previous: Manifest | None) -> str:
    lines = ["| model | task | metric | value | change since previous release |",
             "| --- | --- | --- | ---: | ---: |"]
    for name, entry in manifest.models.items():
        old = previous.models.get(name) if previous else None
        for metric, value in sorted(entry.metrics.items()):
            primary = " (primary)" if metric == entry.primary_metric.name else ""
            if old is None:
                change = "new model"
            elif metric in old.metrics:
                change = f"{value - old.metrics[metric]:+.4f}"
            else:
                change = "new metric"
            lines.append(f"| {name} | {entry.task} | {metric}{primary} | {value:.4f} | {change} |")
    if previous:
        for name in sorted(set(previous.models) - set(manifest.models)):
            lines.append(f"| {name} | - | - | - | removed in this release |")
    return "\n".join(lines)


def _model_section(name: str, entry: ModelEntry) -> list[str]:
    lines = [f"## {name}", "",
             f"- estimator: `{entry.estimator}`",
             f"- task: {entry.task}, predicts `{entry.output.target}`"
             + (f" (classes: {', '.join(map(str, entry.output.classes))})"
                if entry.output.classes else "")
             + (f" in {entry.output.unit}" if entry.output.unit else ""),
             f"- primary metric: {entry.primary_metric.name} "
             f"({'higher' if entry.primary_metric.higher_is_better else 'lower'} is better, "
             f"tolerance {entry.primary_metric.tolerance})",
             f"- file: `{entry.file}` (sha256 `{entry.sha256}`)", "",
             "| input | type | nullable | range / values |", "| --- | --- | --- | --- |"]
    for spec in entry.inputs:
        if spec.values:
            domain = ", ".join(map(str, spec.values))
        elif spec.min is not None or spec.max is not None:
            domain = f"{spec.min} .. {spec.max}"
        else:
            domain = "-"
        lines.append(f"| {spec.name} | {spec.type} | {'yes' if spec.nullable else 'no'} "
                     f"| {domain} |")
    kind = "confusion matrix" if entry.task == "classification" else "predicted vs actual"
    lines += ["", f"![{name}: {kind} on the holdout set]({plot_path(name)})", ""]
    return lines


def _provenance(manifest: Manifest) -> list[str]:
    source = manifest.source
    lines = ["## Provenance", "",
             f"- source commit: `{source.commit_label(None) or 'unknown'}`"
             + (" (trained from uncommitted changes: the files may not match this commit)"
                if source.git_dirty else ""),
             f"- subject: {source.git_subject or '-'}",
             f"- ref: {source.git_ref or '-'}; repository: {source.repository or '-'}",
             f"- run: {source.run_url or '-'}",
             f"- trained at: {manifest.created_at.strftime('%Y-%m-%dT%H:%M:%SZ')}",
             f"- python {manifest.environment.python}; "
             + ", ".join(f"{k} {v}" for k, v in sorted(manifest.environment.packages.items())),
             ""]
    if manifest.data:
        lines += ["| data file | sha256 |", "| --- | --- |"]
        lines += [f"| {path} | `{digest}` |" for path, digest in sorted(manifest.data.items())]
        lines.append("")
    return lines


def draw_plot(entry: ModelEntry, model: Any, release_dir: Path, target: Path, *,
              title: str) -> None:
    """Confusion matrix (classifier) or predicted vs actual (regressor) on the holdout set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hubship.holdout import model_input, read_holdout

    X, actual = read_holdout(Path(release_dir) / entry.holdout.file, target=entry.output.target)
    predicted = model.predict(model_input(X[[spec.name for spec in entry.inputs]],
                                          array=entry.array))
    fig, ax = plt.subplots(figsize=(5, 4.5), dpi=100)
    try:
        if entry.task == "classification":
            from sklearn.metrics import ConfusionMatrixDisplay

            labels = list(entry.output.classes or sorted(set(actual)))
            ConfusionMatrixDisplay.from_predictions(
                actual, predicted, labels=labels, ax=ax, colorbar=False)
            ax.set_title(f"{title}: confusion matrix (holdout)")
        else:
            ax.scatter(actual, predicted, s=12, alpha=0.7)
            low = float(min(actual.min(), predicted.min()))
            high = float(max(actual.max(), predicted.max()))
            ax.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=1)
            unit = f" ({entry.output.unit})" if entry.output.unit else ""
            ax.set_xlabel(f"actual {entry.output.target}{unit}")
            ax.set_ylabel(f"predicted {entry.output.target}{unit}")
            ax.set_title(f"{title}: predicted vs actual (holdout)")
        fig.tight_layout()
        fig.savefig(target, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)
