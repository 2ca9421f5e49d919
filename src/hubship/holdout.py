"""Holdout sets as parquet: the features in training column order, then the target column.

Parquet, not pickle, so the gate can read a release's holdout before trusting anything in it.
Written with pyarrow without the frame's index, so the same rows give the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def holdout_bytes(X: pd.DataFrame, y: pd.Series, *, target: str) -> bytes:
    """The parquet file holding X with y appended as column `target`."""
    frame = X.reset_index(drop=True).copy()
    frame[target] = y.reset_index(drop=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", write_statistics=False)
    return sink.getvalue()


def model_input(X: pd.DataFrame, *, array: bool) -> Any:
    """What the model predicts on: the frame, or its values for a model trained on an array
    (the manifest's `array`; the holdout set names its columns x0..xN)."""
    return X.to_numpy() if array else X


def read_holdout_bytes(raw: bytes, *, target: str) -> tuple[pd.DataFrame, pd.Series]:
    frame = pq.read_table(io.BytesIO(raw)).to_pandas()
    if target not in frame.columns:
        raise ValueError(f"the holdout set has no target column {target!r}")
    return frame.drop(columns=[target]), frame[target]


def read_holdout(path: Path, *, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """(features, target) from a holdout parquet file, e.g. `holdout/<name>.parquet`.

    `target` is the model's `output.target` in the manifest.
    """
    return read_holdout_bytes(Path(path).read_bytes(), target=target)
