from __future__ import annotations

import json

import optuna
import pytest
from conftest import require_data

from optuna_hwprune.cli import main


@pytest.mark.slow
def test_seed_search_cli_end_to_end(tmp_path) -> None:
    root = require_data("medmnist")
    require_data("medmnist/breastmnist.npz")
    storage = f"sqlite:///{tmp_path / 'seed.db'}"
    summary_path = tmp_path / "seed.json"
    status = main(
        [
            "seed-search",
            "--dataset", "breastmnist",
            "--data-root", str(root),
            "--constraint", "fpga_latency<=2.5",
            "--constraint", "params<=1.1e6",
            "--seeds", "1",
            "--trials", "2",
            "--epochs", "1",
            "--train-subset", "64",
            "--storage", storage,
            "--study", "cli-demo",
            "--seed", "0",
            "--device", "cpu",
            "--json", str(summary_path),
            "--plots", str(tmp_path / "plots"),
            "--artifact-dir", str(tmp_path / "artifacts"),
        ]
    )  # fmt: skip
    assert status == 0

    summary = json.loads(summary_path.read_text())
    assert summary["reference"] == "cifar10"
    assert len(summary["similarity"]) == 3
    assert summary["seeds"][0]["fpga_latency"] <= 2.5
    completed = [trial for trial in summary["trials"] if trial["state"] == "COMPLETE"]
    assert len(completed) == 2
    assert completed[0]["seed"] is True
    for trial in completed:
        assert trial["num_parameters"] > 0
        assert trial["test_accuracy"] is not None
        assert trial["bench"]["fpga_latency"] <= 2.5
    assert summary["best_trial"]["number"] in [trial["number"] for trial in completed]

    for name in ("pareto_front.png", "parameters.png", "memory_latency.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 0
    assert len(summary["artifacts"]) == 3
    study = optuna.load_study(study_name="cli-demo", storage=storage)
    assert study.metric_names == ["val_accuracy"]
    assert len(optuna.artifacts.get_all_artifact_meta(study)) == 3


def test_seed_search_rejects_unknown_metric(capsys) -> None:
    require_data("medmnist/breastmnist.npz")
    status = main(
        ["seed-search", "--dataset", "breastmnist", "--data-root", str(require_data("medmnist")),
         "--constraint", "fpga_latncy<=2", "--storage", "sqlite:///:memory:"]
    )  # fmt: skip
    assert status == 2
    assert "fpga_latncy" in capsys.readouterr().err
