"""The opt-in safe format: `Bundle.add(..., format="skops")` saves a model with skops.io, and
`hubship.release` builds it from an allow-list of types in the process's configuration; a file
naming any other type is refused before anything of it is built."""

from __future__ import annotations

import hashlib
from pathlib import Path

import joblib
import pandas as pd
import pytest
import skops.io

from hubship.config import Settings
from hubship.errors import IntegrityError, UntrustedTypes
from hubship.loader import load_bundled
from hubship.manifest import Manifest, sha256_file
from hubship.release import LOCAL, Trust, open_release
from tests.support.release_builder import BACKEND_MODELS, build_release
from tests.support.trust import BuildsCode


@pytest.fixture(scope="module")
def skops_release(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("skops") / "release"
    build_release(folder, BACKEND_MODELS, release=1, model_format="skops")
    return folder


def test_a_skops_release_loads_with_the_default_allow_list_and_predicts_like_joblib(
    skops_release: Path, tmp_path: Path,
):
    manifest = Manifest.read(skops_release)
    assert manifest.models["species"].file == "models/species.skops"
    assert manifest.environment.packages["skops"] == skops.__version__
    joblib_release = tmp_path / "joblib"
    build_release(joblib_release, BACKEND_MODELS, release=1)
    _, skops_models = open_release(skops_release, LOCAL, origin="skops")
    _, joblib_models = open_release(joblib_release, LOCAL, origin="joblib")
    holdout = pd.read_parquet(skops_release / manifest.models["species"].holdout.file)
    X = holdout[[spec.name for spec in manifest.models["species"].inputs]]
    assert (skops_models["species"].predict_proba(X)
            == joblib_models["species"].predict_proba(X)).all()


def test_the_same_model_gives_the_same_skops_bytes(skops_release: Path, tmp_path: Path):
    """skops names members by id() and stamps times; Bundle rewrites it canonically, so an
    unchanged release stays unchanged for the publisher."""
    import subprocess
    import sys

    again = tmp_path / "again"  # another process: other ids, another time
    subprocess.run([sys.executable, "-c", "import sys; from tests.support.release_builder "
                    "import *; build_release(sys.argv[1], BACKEND_MODELS, release=1, "
                    "model_format='skops')", str(again)], check=True, cwd=Path(__file__).parents[2])
    assert Manifest.read(again).model_hashes() == Manifest.read(skops_release).model_hashes()


def test_the_backend_loads_a_bundled_skops_release(skops_release: Path, tmp_path: Path):
    settings = Settings.load(hf_endpoint="http://127.0.0.1:9", hf_repo_id="team/penguins",
                             assets_dir=skops_release, hubship_home=tmp_path)
    model_set = load_bundled(settings)
    assert set(model_set.models) == {"species", "body_mass"}


def _plant_untrusted(release: Path, marker: Path) -> Path:
    """The species model replaced by a skops file naming a type outside the allow-list, its
    sha256 honest (what someone with write access could publish)."""
    manifest = Manifest.read(release)
    entry = manifest.models["species"]
    path = release / entry.file
    path.write_bytes(skops.io.dumps(BuildsCode(marker)))
    entry = entry.model_copy(update={"sha256": sha256_file(path), "size": path.stat().st_size})
    manifest.model_copy(update={"models": {**manifest.models, "species": entry}}).write(release)
    return release


def test_a_skops_model_naming_an_untrusted_type_is_refused_before_it_is_built(
    skops_release: Path, tmp_path: Path,
):
    import shutil

    marker = tmp_path / "marker"
    release = _plant_untrusted(Path(shutil.copytree(skops_release, tmp_path / "r")), marker)
    with pytest.raises(UntrustedTypes) as refused:
        open_release(release, LOCAL, origin="v2")
    assert "tests.support.trust.BuildsCode" in refused.value.message
    assert "nothing of it was built" in refused.value.message
    assert "HUBSHIP_SKOPS_TRUSTED" in refused.value.hint
    assert not marker.exists()

    # the control: once a person trusts the type in the configuration, skops builds it
    trusting = Settings.load(skops_trusted="numpy.dtype, tests.support.trust.BuildsCode")
    open_release(release, Trust.from_settings(trusting), origin="v2")
    assert marker.read_text() == "built"


def test_a_pickle_named_skops_is_not_unpickled(skops_release: Path, tmp_path: Path):
    """The format follows the file name in the (signed) manifest: a pickle behind a .skops
    name is read by skops, which refuses it."""
    import shutil

    from tests.support.trust import RunsCode

    release = Path(shutil.copytree(skops_release, tmp_path / "r"))
    marker = tmp_path / "marker"
    manifest = Manifest.read(release)
    entry = manifest.models["species"]
    joblib.dump(RunsCode(marker), release / entry.file)
    data = (release / entry.file).read_bytes()
    entry = entry.model_copy(update={"sha256": hashlib.sha256(data).hexdigest(),
                                     "size": len(data)})
    manifest.model_copy(update={"models": {**manifest.models, "species": entry}}).write(release)
    with pytest.raises(IntegrityError, match="species.skops is not a skops file"):
        open_release(release, LOCAL, origin="v2")
    assert not marker.exists()
