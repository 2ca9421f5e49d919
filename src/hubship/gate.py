"""Champion vs challenger: may the challenger replace what production serves?

`gate(champion_dir, challenger_dir)` is a pure function over two release directories. Both
models are scored here, on the challenger's holdout set, with the model's primary metric: the
metrics written in the challenger's manifest are never trusted. Both releases are read through
`hubship.release`: the champion's signature (with the publisher's key), every sha256 and the
versions check out before anything is unpickled.

A champion that fails its signature is never unpickled: the gate refuses (`ChampionUnverified`)
unless the caller asks for `champion_unverified=<reason>` (the publisher's `--force`), and then
every row compares against the champion's stored metrics and says why.

A model in both releases is compared on ONE metric with the stricter of the two tolerances.
When the champion cannot be scored here (the input schema changed, it was pickled under another
scikit-learn, or it does not unpickle), its stored metric stands in (the champion's manifest is
the published record) and the row says so. When the primary metric itself changed, nothing
bounds the comparison: the row is "incomparable" and refuses the release like "worse" does.
A model absent from the champion is "new" and passes. A champion model absent from the
challenger is "removed" and refuses too: clients calling it by name would get 404 (a rename is
a removal plus a new model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hubship.errors import (
    HubshipError,
    IntegrityError,
    ManifestError,
    SignatureError,
)
from hubship.holdout import read_holdout
from hubship.manifest import Manifest, ModelEntry, PrimaryMetric
from hubship.release import (
    LOCAL,
    CheckedRelease,
    Trust,
    check,
    check_challenger_sklearn,
    sklearn_mismatch,
)

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

Verdict = Literal["new", "better", "same", "worse", "removed", "incomparable"]
REFUSING: frozenset[str] = frozenset({"worse", "incomparable", "removed"})

SCHEMA_CHANGED = "schema changed: champion's stored metric"


class GateError(HubshipError):
    """The gate could not score the challenger: something is broken, not worse."""


class ChampionUnusable(GateError):
    """The champion release on the Hub cannot be read or fails its hashes."""


class ChampionUnverified(ChampionUnusable):
    """The champion's signature does not check out: it is never unpickled."""


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
        return not self.refusing

    @property
    def worse(self) -> list[GateRow]:
        return [row for row in self.rows if row.verdict == "worse"]

    @property
    def refusing(self) -> list[GateRow]:
        """The rows that refuse the release: worse, not comparable, or removed."""
        return [row for row in self.rows if row.verdict in REFUSING]

    def table(self, *, title: str | None = None) -> Table:
        """A Rich table: model, metric, champion, challenger, delta, verdict."""
        from rich.table import Table

        colours = {"worse": "red", "incomparable": "red", "removed": "red", "better": "green"}
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
        """One clause per refusing model, for an error message."""
        return "; ".join(_clause(row) for row in self.refusing)


def _clause(row: GateRow) -> str:
    if row.verdict == "worse":
        return f"{row.model}: {row.metric} {_fmt(row.champion)} -> {_fmt(row.challenger)}"
    if row.verdict == "removed":
        return f"{row.model} was removed: {row.note}"
    return f"{row.model}: {row.note}"


def _fmt(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def gate(champion_dir: Path | None, challenger_dir: Path, *, trust: Trust = LOCAL,
         champion_unverified: str | None = None) -> GateReport:
    """Score champion and challenger on the challenger's holdout sets; see the module doc.

    `trust` verifies the champion (the challenger is this run's own training output).
    Raises `ChampionUnverified` when the champion's signature fails, `ChampionUnusable` when
    it cannot be read or fails its hashes (only `--force` publishes past those), and
    `GateError` when the challenger cannot be scored.
    """
    checked = check(challenger_dir, LOCAL, origin="the release to publish")
    challenger = checked.manifest
    check_challenger_sklearn(challenger)
    champion: CheckedRelease | None = None
    if champion_dir is None:
        old_models: dict[str, ModelEntry] = {}
        mismatch = None
    elif champion_unverified is not None:  # never unpickled: its stored metrics stand in
        old_models, mismatch = _read_stored(champion_dir).models, champion_unverified
    else:
        champion = _read_champion(champion_dir, trust)
        old_models = champion.manifest.models
        mismatch = sklearn_mismatch(champion.manifest)

    rows: list[GateRow] = []
    for name, entry in challenger.models.items():
        X, y = _read_holdout(challenger_dir, name, entry)
        challenger_score = _score_challenger(checked, name, entry, X, y)
        old = old_models.get(name)
        if old is None:
            rows.append(GateRow(name, entry.primary_metric.name, None, challenger_score, "new"))
            continue
        rows.append(_compare(name, old, entry, challenger_score, X, y,
                             champion=champion, mismatch=mismatch))
    for name, old in old_models.items():
        if name not in challenger.models:
            stored = old.metrics.get(old.primary_metric.name)
            rows.append(GateRow(name, old.primary_metric.name, stored, None, "removed",
                                f"clients calling /models/{name}/predict will get 404"))
    return GateReport(rows)


def _compare(
    name: str, old: ModelEntry, new: ModelEntry, challenger_score: float, X: pd.DataFrame,
    y: pd.Series, *,
    champion: CheckedRelease | None, mismatch: str | None,
) -> GateRow:
    """One model in both releases: compared on the same metric, or refused as incomparable."""
    metric = new.primary_metric.name
    if old.primary_metric.name != metric:
        # the champion's tolerance is for another metric: nothing bounds the challenger's own
        return GateRow(name, metric, None, challenger_score, "incomparable",
                       f"cannot compare: primary metric changed from "
                       f"{old.primary_metric.name} to {metric}")
    champion_score, note = _score_champion(champion, name, old, new, X, y, metric=metric,
                                           mismatch=mismatch)
    if champion_score is None:
        return GateRow(name, metric, None, challenger_score, "incomparable", note)
    rule = _rule(old.primary_metric, new.primary_metric)
    return GateRow(name, metric, champion_score, challenger_score,
                   _verdict(champion_score, challenger_score, rule), note)


def _rule(old: PrimaryMetric, new: PrimaryMetric) -> PrimaryMetric:
    """The shared metric, its direction from the metric registry (not the manifests), and the
    stricter of the two tolerances (the caller checked both name the same metric)."""
    from hubship.scoring import METRICS

    update: dict[str, object] = {"tolerance": min(old.tolerance, new.tolerance)}
    if new.name in METRICS:
        update["higher_is_better"] = METRICS[new.name].higher_is_better
    return new.model_copy(update=update)


def _verdict(champion: float, challenger: float, rule: PrimaryMetric) -> Verdict:
    if math.isnan(challenger):
        return "worse"
    delta = challenger - champion if rule.higher_is_better else champion - challenger
    if delta < -rule.tolerance:
        return "worse"
    return "better" if delta > 0 else "same"


def _score_champion(
    champion: CheckedRelease | None, name: str, old: ModelEntry, new: ModelEntry, X: pd.DataFrame,
    y: pd.Series, *, metric: str, mismatch: str | None,
) -> tuple[float | None, str]:
    """The champion's score on the new holdout set, or its stored metric (the published
    record) when it cannot be scored here, with the reason in the note. `champion` is None
    when it must not be loaded at all (unverified: `mismatch` says why)."""
    if mismatch is not None or champion is None:
        reason = f"champion {mismatch}"  # unverified, or another scikit-learn's pickle
    elif not _can_score(old, new, X):
        reason = "schema changed"
    else:
        try:
            model = champion.load(name)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure: use the stored record
            reason = f"champion cannot be unpickled ({type(exc).__name__})"
        else:
            try:
                return _score(model, X, y, old, metric=metric), ""
            except (ValueError, TypeError, KeyError):  # e.g. a column changed type or categories
                reason = "schema changed"
    if metric in old.metrics:
        return old.metrics[metric], f"{reason}: champion's stored metric"
    return None, (f"{reason}: champion cannot score the new holdout and has no stored value "
                  f"for metric {metric}")


def _can_score(old: ModelEntry, new: ModelEntry, X: pd.DataFrame) -> bool:
    """Can the champion predict the new holdout set: same task, target, and all its inputs?"""
    if old.task != new.task or old.output.target != new.output.target:
        return False
    return all(spec.name in X.columns for spec in old.inputs)


def _read_champion(champion_dir: Path, trust: Trust) -> CheckedRelease:
    """The champion, checked by `hubship.release` (signature, hashes); `ChampionUnverified`
    or `ChampionUnusable` otherwise."""
    try:
        return check(champion_dir, trust, origin="the champion release")
    except SignatureError as exc:
        raise ChampionUnverified(
            exc.message,
            hint="publish with --force to replace it: the gate then compares against the "
                 "champion's stored metrics and never loads its files (recorded as FORCED)",
        ) from exc
    except (ManifestError, IntegrityError) as exc:
        raise ChampionUnusable(
            f"the champion release is unusable: {exc.message}",
            hint="repair or roll back the release on main, or publish with --force "
                 "(recorded as FORCED)",
        ) from exc


def _read_stored(champion_dir: Path) -> Manifest:
    """An unverified champion's manifest, for its stored metrics only."""
    try:
        return Manifest.read(champion_dir)
    except ManifestError as exc:
        raise ChampionUnusable(f"the champion release is unusable: {exc.message}") from exc


def _read_holdout(release_dir: Path, name: str, entry: ModelEntry
                  ) -> tuple[pd.DataFrame, pd.Series]:
    try:
        return read_holdout(Path(release_dir) / entry.holdout.file, target=entry.output.target)
    except ValueError as exc:
        raise GateError(f"model {name!r}: {entry.holdout.file} cannot be used: {exc}",
                        hint="train again: the holdout set does not match the manifest") from None


def _score_challenger(challenger: CheckedRelease, name: str, entry: ModelEntry,
                      X: pd.DataFrame, y: pd.Series) -> float:
    try:
        return _score(challenger.load(name), X, y, entry, metric=entry.primary_metric.name)
    except (ValueError, TypeError, KeyError) as exc:
        raise GateError(
            f"model {name!r} cannot be scored on its own holdout set "
            f"({type(exc).__name__}: {exc})",
            hint="check the model's inputs and primary metric in the training script, and "
                 "train again",
        ) from None


def _score(model: Any, X: pd.DataFrame, y: pd.Series, entry: ModelEntry, *, metric: str
           ) -> float:
    """`entry` names the model's own inputs; the holdout set is always the challenger's."""
    from hubship.holdout import model_input
    from hubship.scoring import score

    features = model_input(X[[spec.name for spec in entry.inputs]], array=entry.array)
    return float(score(model, features, y, task=entry.task, metric_name=metric))
