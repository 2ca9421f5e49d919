"""The model card: metadata the Hub renders, tables, provenance and plots."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import ModelCard
from PIL import Image

from hubship.card import write_card
from hubship.manifest import Manifest


def _card(trained: Path, out: Path, **changes) -> ModelCard:
    manifest = Manifest.read(trained).model_copy(update={"release": 2, **changes})
    written = write_card(out, manifest, trained, repo_id="team/penguins",
                         previous=Manifest.read(trained))
    assert sorted(written) == ["README.md", "plots/body_mass.png", "plots/species.png"]
    return ModelCard.load(out / "README.md")


def test_card_metadata_lists_every_metric_in_the_model_index(trained: Path, tmp_path) -> None:
    card = _card(trained, tmp_path)
    data = card.data.to_dict()
    assert data["library_name"] == "sklearn"
    assert "hubship" in data["tags"] and "release-v2" in data["tags"]
    reported = {(r.task_name.split()[0], r.metric_type): r.metric_value
                for r in card.data.eval_results}
    for name, entry in Manifest.read(trained).models.items():
        for metric, value in entry.metrics.items():
            assert reported[(name, metric)] == round(value, 6)


def test_card_body_has_metrics_inputs_provenance_and_plots(trained: Path, tmp_path) -> None:
    text = _card(trained, tmp_path).text
    manifest = Manifest.read(trained)
    assert "| species | classification | f1_macro (primary) |" in text
    assert "+0.0000" in text  # change since the previous release
    assert "| flipper_length_mm | number |" in text
    assert manifest.source.git_commit in text
    for path, digest in manifest.data.items():
        assert f"| {path} | `{digest}` |" in text
    assert "![species: confusion matrix on the holdout set](plots/species.png)" in text
    assert "![body_mass: predicted vs actual on the holdout set](plots/body_mass.png)" in text
    assert "FORCED" not in text


def test_forced_and_rollback_releases_say_so(trained: Path, tmp_path) -> None:
    assert "**FORCED release**" in _card(trained, tmp_path / "a", forced=True).text
    assert "restores the models of `v1`" in _card(trained, tmp_path / "b", restores="v1").text


def test_plots_are_png_and_identical_for_an_identical_release(trained: Path, tmp_path) -> None:
    _card(trained, tmp_path / "one")
    _card(trained, tmp_path / "two")
    for name in ("species", "body_mass"):
        first = (tmp_path / "one" / "plots" / f"{name}.png").read_bytes()
        assert first == (tmp_path / "two" / "plots" / f"{name}.png").read_bytes()
        with Image.open(tmp_path / "one" / "plots" / f"{name}.png") as image:
            assert image.format == "PNG" and "Software" not in image.info
