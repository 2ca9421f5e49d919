"""The LitServe peer for bench/serving.py; runs in LitServe's own venv (see `litserve_python`).

    python bench/litserve_server.py ASSETS PORT [--batched]

One LitServer with an API per model at /predict/<name>, one inference worker, one API server.
Batched: max_batch_size 64, batch_timeout 5 ms, the records stacked into one DataFrame and one
`predict_proba`/`predict` per batch, as the LitServe docs show for scikit-learn.
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

import joblib
import litserve as ls
import pandas as pd


class ModelAPI(ls.LitAPI):
    def __init__(self, path: Path, *, batched: bool) -> None:
        options = {"max_batch_size": 64, "batch_timeout": 0.005} if batched else {}
        super().__init__(api_path=f"/predict/{path.stem}", **options)
        self.path = path

    def setup(self, device: str) -> None:
        self.model = joblib.load(self.path)
        self.columns = list(self.model.feature_names_in_)
        self.classes = getattr(self.model, "classes_", None)

    def decode_request(self, request: dict) -> dict:
        return request

    def batch(self, inputs: list[dict]) -> pd.DataFrame:
        return pd.DataFrame(inputs, columns=self.columns)

    def predict(self, x):
        if not isinstance(x, pd.DataFrame):  # unbatched: one record
            return self._run(pd.DataFrame([x], columns=self.columns))[0]
        return self._run(x)

    def _run(self, frame: pd.DataFrame) -> list[dict]:
        if self.classes is None:
            return [{"value": float(v), "unit": "g"} for v in self.model.predict(frame)]
        classes = self.classes.tolist()
        return [{"label": classes[int(row.argmax())],
                 "probabilities": dict(zip(classes, row.tolist(), strict=True))}
                for row in self.model.predict_proba(frame)]

    def unbatch(self, output: list[dict]) -> list[dict]:
        return output

    def encode_response(self, output: dict) -> dict:
        return output


def _stop_group(signum: int, frame: object) -> None:
    """A SIGTERM ends this server's whole process group at once (SIGKILL: nothing to save).
    Sent to this process alone (bench/serving.py died: PR_SET_PDEATHSIG), LitServe's API
    server and workers would outlive it, spinning; sent to the group, the API server waits
    for requests its dead workers never answer."""
    if os.getpgid(0) == os.getpid():  # the group is this server's own (bench: a new session)
        os.killpg(0, signal.SIGKILL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked child of it: as by default
    os.kill(os.getpid(), signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("assets", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("--batched", action="store_true")
    args = parser.parse_args()
    apis = [ModelAPI(path, batched=args.batched)
            for path in sorted((args.assets / "models").glob("*.joblib"))]
    server = ls.LitServer(apis, accelerator="cpu", workers_per_device=1)
    signal.signal(signal.SIGTERM, _stop_group)
    server.run(host="127.0.0.1", port=args.port, num_api_servers=1, log_level="warning",
               generate_client_file=False)


if __name__ == "__main__":
    main()
