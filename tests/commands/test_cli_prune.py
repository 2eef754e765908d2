"""``hwprune prune`` end to end on real CIFAR-10 with a tiny budget."""

from __future__ import annotations

import json

import optuna
import pytest
import torch
from conftest import require_data

from optuna_hwprune.cli import main
from optuna_hwprune.datasets import load_dataset
from optuna_hwprune.pruning import (
    build_model,
    dense_checkpoint_name,
    save_dense_checkpoint,
    train_dense,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> tuple[str, object]:
    # A briefly trained dense ResNet-20, so the command skips its full dense training.
    root = require_data("cifar10/cifar10-jpeg.zip").parent
    torch.manual_seed(0)
    model = build_model("resnet20", num_classes=10)
    train_dense(model, load_dataset("cifar10", root, "train").subset(512, seed=0), epochs=1, batch_size=64)
    path = tmp_path_factory.mktemp("dense") / "resnet20.pt"
    save_dense_checkpoint(path, model.cpu(), "resnet20", 10, 3, {"epochs": 1})
    return str(root), path


def _arguments(data_root: str, tmp_path, *extra: str) -> list[str]:
    return [
        "prune", "--model", "resnet20", "--dataset", "cifar10", "--data-root", data_root,
        "--trials", "3", "--population", "4", "--finetune-steps", "2", "--batch-size", "64",
        "--train-subset", "256", "--val-subset", "200", "--device", "cpu",
        "--storage", f"sqlite:///{tmp_path / 'prune.db'}", "--study", "cli-test", "--seed", "0",
        "--json", str(tmp_path / "prune.json"), "--plots", str(tmp_path / "plots"), *extra,
    ]


def test_cli_prune_end_to_end(checkpoint, tmp_path) -> None:
    data_root, path = checkpoint
    assert main(_arguments(data_root, tmp_path, "--checkpoint", str(path))) == 0

    summary = json.loads((tmp_path / "prune.json").read_text())
    assert summary["dense"]["source"] == "checkpoint"
    for key in ("val_accuracy", "test_accuracy", "latency_ms", "energy_mj", "macs"):
        assert key in summary["dense"], key
    assert summary["estimator"]["profile"]["name"]
    assert summary["images"] == {"dense_train": 45000, "finetune": 256, "val": 200, "test": 200}
    assert len(summary["trials"]) == 3
    assert 1 <= len(summary["pareto_front"]) <= 3
    for record in summary["pareto_front"]:
        assert set(record["sparsity"]) == set(summary["layers"])
        assert len(record["measured_sparsity"]) == 20
        assert record["speedup"] >= 1.0

    study = optuna.load_study(study_name="cli-test", storage=f"sqlite:///{tmp_path / 'prune.db'}")
    assert study.metric_names == ["accuracy", "speedup"]
    for name in ("pareto_front.png", "front_sparsity.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 0
    assert len(list((tmp_path / "artifacts").iterdir())) == 2


def test_cli_prune_rerun_resumes_study(checkpoint, tmp_path) -> None:
    data_root, path = checkpoint
    # The checkpoint under the cache name stands for an earlier run's dense training.
    cached = tmp_path / dense_checkpoint_name("resnet20", "cifar10", 2, 0)
    cached.write_bytes(path.read_bytes())
    arguments = _arguments(
        data_root, tmp_path, "--dense-epochs", "2", "--layers", "layer3.*,fc",
        "--artifact-dir", str(tmp_path / "dashboard"),
    )

    assert main(arguments) == 0
    assert main(arguments) == 0

    assert not (tmp_path / "artifacts").exists()
    assert len(list((tmp_path / "dashboard").iterdir())) >= 2
    summary = json.loads((tmp_path / "prune.json").read_text())
    assert summary["dense"]["source"] == "cache"
    assert len(summary["trials"]) == 3
    assert summary["layers"] == [f"layer3.{block}.conv{index}" for block in range(3) for index in (1, 2)] + ["fc"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--layers", "layer9.*"], "match no prunable layer"),
        (["--finetune-lr", "0"], "--finetune-lr"),
        (["--checkpoint", "missing.pt"], "missing.pt"),
    ],
)
def test_cli_prune_invalid_input(checkpoint, tmp_path, capsys, option, message) -> None:
    data_root, path = checkpoint
    arguments = _arguments(data_root, tmp_path, "--checkpoint", str(path))
    assert main(arguments + option) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("sampler", "population", "minimum"), [("nsga", "3", 4), ("nsgaii", "1", 2)])
def test_cli_prune_rejects_small_population(tmp_path, capsys, sampler, population, minimum) -> None:
    # No checkpoint and no data: the check has to fail before data loading or dense training.
    arguments = [
        "prune", "--model", "resnet20", "--data-root", str(tmp_path / "no-data"), "--sampler", sampler,
        "--population", population, "--storage", f"sqlite:///{tmp_path / 'prune.db'}",
    ]
    assert main(arguments) == 2
    assert f"--population {population} is below the minimum of {minimum}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_prune_artifact_dir_needs_plots(tmp_path, capsys) -> None:
    arguments = ["prune", "--artifact-dir", str(tmp_path), "--storage", f"sqlite:///{tmp_path / 'prune.db'}"]
    assert main(arguments) == 2
    assert "needs --plots" in capsys.readouterr().err


def test_cli_prune_rejects_sparsity_range_of_one(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as error:
        main(["prune", "--sparsity-range", "0.2,1.0"])
    assert error.value.code == 2
    assert "HIGH < 1" in capsys.readouterr().err
