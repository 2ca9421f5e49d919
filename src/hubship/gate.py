"""Champion vs challenger: may the challenger replace what production serves?

`gate(champion_dir, challenger_dir)` is a pure function over two release directories. Both
models are scored here, on the challenger's holdout set, with the model's primary metric: the
metrics written in the challenger's manifest are never trusted. Every file is checked against
its sha256 before anything is unpickled.

When the input schema changed so the champion cannot score the new holdout set, the
challenger's own score is compared with the champion's stored metric (the champion's manifest
is the published record), and the row says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hubship.manifest import Manifest, ModelEntry, PrimaryMetric

Verdict = Literal["new", "better", "same", "worse", "removed"]

SCHEMA_CHANGED = "schema changed: champion's stored metric"


@dataclass(frozen=True)
class GateRow:
    model: str
    metric: str
    champion: float | None
    challenger: float | None
    verdict: Verdict
    note: str = ""

    @property
    def delta(self) -> float | None:
        if self.champion is None or self.challenger is None:
            return None
        return self.challenger - self.champion


@dataclass(frozen=True)
class GateReport:
    rows: list[GateRow] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(row.verdict != "worse" for row in self.rows)

    @property
    def worse(self) -> list[GateRow]:
        return [row for row in self.rows if row.verdict == "worse"]

    def table(self, *, title: str | None = None):
        """A Rich table: model, metric, champion, challenger, delta, verdict."""
        from rich.table import Table

        colours = {"worse": "red", "better": "green", "removed": "yellow"}
        table = Table(title=title or ("gate: passed" if self.passed else "gate: REFUSED"))
        for column in ("model", "metric", "champion", "challenger", "delta", "verdict"):
            table.add_column(column, justify="right" if column in {"champion", "challenger",
                                                                   "delta"} else "left")
        for row in self.rows:
            verdict = row.verdict + (f" ({row.note})" if row.note else "")
            colour = colours.get(row.verdict)
            table.add_row(
                row.model, row.metric, _fmt(row.champion), _fmt(row.challenger),
                _fmt(row.delta, signed=True),
                f"[{colour}]{verdict}[/]" if colour else verdict,
            )
        return table

    def markdown(self) -> str:
        lines = ["| model | metric | champion | challenger | delta | verdict |",
                 "| --- | --- | ---: | ---: | ---: | --- |"]
        for row in self.rows:
            verdict = row.verdict + (f" ({row.note})" if row.note else "")
            lines.append(
                f"| {row.model} | {row.metric} | {_fmt(row.champion)} | {_fmt(row.challenger)} "
                f"| {_fmt(row.delta, signed=True)} | {verdict} |"
            )
        return "\n".join(lines)

    def summary(self) -> str:
        """One line per losing model, for an error message."""
        return "; ".join(
            f"{row.model}: {row.metric} {_fmt(row.champion)} -> {_fmt(row.challenger)}"
            for row in self.worse
        )


def _fmt(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def gate(champion_dir: Path | None, challenger_dir: Path) -> GateReport:
    """Score champion and challenger on the challenger's holdout sets; see the module doc."""
    challenger = Manifest.read(challenger_dir)
    challenger.verify_files(challenger_dir)
    champion: Manifest | None = None
    if champion_dir is not None:
        champion = Manifest.read(champion_dir)
        champion.verify_files(champion_dir)

    rows: list[GateRow] = []
    for name, entry in challenger.models.items():
        holdout = _read_holdout(challenger_dir, entry)
        challenger_score = _score(_load(challenger_dir, entry), holdout, entry,
                                  metric=entry.primary_metric.name)
        old = champion.models.get(name) if champion else None
        if old is None:
            rows.append(GateRow(name, entry.primary_metric.name, None, challenger_score, "new"))
            continue
        rule = _rule(old.primary_metric, entry.primary_metric)
        champion_score, note = _score_champion(champion_dir, old, entry, holdout, rule.name)
        rows.append(GateRow(name, rule.name, champion_score, challenger_score,
                            _verdict(champion_score, challenger_score, rule), note))
    for name, old in (champion.models.items() if champion else []):
        if name not in challenger.models:
            stored = old.metrics.get(old.primary_metric.name)
            rows.append(GateRow(name, old.primary_metric.name, stored, None, "removed",
                                "not in the new release"))
    return GateReport(rows)


def _rule(old: PrimaryMetric, new: PrimaryMetric) -> PrimaryMetric:
    """The challenger's metric, its direction from the metric registry (not the manifest),
    and the stricter of the two tolerances when the metric is unchanged."""
    from hubship.metrics import METRICS

    update: dict[str, object] = {}
    if new.name in METRICS:
        update["higher_is_better"] = METRICS[new.name].higher_is_better
    if old.name == new.name:
        update["tolerance"] = min(old.tolerance, new.tolerance)
    return new.model_copy(update=update)


def _verdict(champion: float | None, challenger: float | None, rule: PrimaryMetric) -> Verdict:
    if champion is None or challenger is None:
        return "new"
    if math.isnan(challenger):
        return "worse"
    delta = challenger - champion if rule.higher_is_better else champion - challenger
    if delta < -rule.tolerance:
        return "worse"
    return "better" if delta > 0 else "same"


def _score_champion(
    champion_dir: Path, old: ModelEntry, new: ModelEntry, holdout, metric: str
) -> tuple[float | None, str]:
    """The champion's score on the new holdout set, or its stored metric when it cannot."""
    if _can_score(old, new, holdout):
        try:
            return _score(_load(champion_dir, old), holdout, old, metric=metric), ""
        except (ValueError, TypeError, KeyError):  # e.g. a column changed type or categories
            pass
    if metric in old.metrics:
        return old.metrics[metric], SCHEMA_CHANGED
    return None, "schema and metric changed: nothing to compare"


def _can_score(old: ModelEntry, new: ModelEntry, holdout) -> bool:
    """Can the champion predict the new holdout set: same task, target, and all its inputs?"""
    if old.task != new.task or old.output.target != new.output.target:
        return False
    return all(spec.name in holdout.columns for spec in old.inputs)


def _read_holdout(release_dir: Path, entry: ModelEntry):
    import pandas as pd

    return pd.read_parquet(Path(release_dir) / entry.holdout.file)


def _load(release_dir: Path | None, entry: ModelEntry):
    """Unpickle a model; its sha256 was verified by the caller (Manifest.verify_files)."""
    import joblib

    return joblib.load(Path(release_dir) / entry.file)


def _score(model, holdout, entry: ModelEntry, *, metric: str) -> float:
    """`entry` names the model's own inputs; the holdout set is always the challenger's."""
    from hubship.metrics import score

    X = holdout[[spec.name for spec in entry.inputs]]
    y = holdout[entry.output.target]
    return float(score(model, X, y, task=entry.task, metric_name=metric))
