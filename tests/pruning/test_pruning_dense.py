"""Dense checkpoints: save/load, validation of the architecture, and the training cache."""

from __future__ import annotations

import pytest
import torch
from conftest import require_data

from optuna_hwprune.datasets import load_dataset
from optuna_hwprune.pruning import (
    build_model,
    dense_checkpoint_name,
    load_dense_checkpoint,
    save_dense_checkpoint,
)
from optuna_hwprune.pruning._dense import obtain_dense_model


def _same_weights(first: torch.nn.Module, second: torch.nn.Module) -> bool:
    second_state = second.state_dict()
    return all(torch.equal(value, second_state[key]) for key, value in first.state_dict().items())


def test_checkpoint_round_trip(tmp_path) -> None:
    torch.manual_seed(0)
    model = build_model("resnet20", num_classes=10)
    path = save_dense_checkpoint(tmp_path / "dense.pt", model, "resnet20", 10, 3, {"epochs": 1})

    loaded, metadata = load_dense_checkpoint(path, "resnet20", 10, 3)
    assert _same_weights(model, loaded)
    assert metadata == {"epochs": 1}


def test_checkpoint_accepts_bare_state_dict(tmp_path) -> None:
    model = build_model("resnet20", num_classes=10)
    torch.save(model.state_dict(), tmp_path / "bare.pt")
    loaded, metadata = load_dense_checkpoint(tmp_path / "bare.pt", "resnet20", 10)
    assert _same_weights(model, loaded)
    assert metadata == {}


def test_checkpoint_rejects_other_model(tmp_path) -> None:
    model = build_model("resnet20", num_classes=10)
    path = save_dense_checkpoint(tmp_path / "dense.pt", model, "resnet20", 10, 3)
    with pytest.raises(ValueError, match="resnet56"):
        load_dense_checkpoint(path, "resnet56", 10, 3)
    torch.save(model.state_dict(), tmp_path / "bare.pt")
    with pytest.raises(ValueError, match="does not fit"):
        load_dense_checkpoint(tmp_path / "bare.pt", "resnet56", 10)


def test_checkpoint_missing_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_dense_checkpoint(tmp_path / "missing.pt", "resnet20", 10)


@pytest.mark.slow
def test_dense_training_is_cached(tmp_path) -> None:
    root = require_data("cifar10/cifar10-jpeg.zip").parent
    train = load_dataset("cifar10", root, "train").subset(256, seed=0)
    losses = []

    first = obtain_dense_model(
        "resnet20", train, cache_dir=tmp_path, epochs=2, batch_size=64,
        callback=lambda done, total, loss: losses.append(loss),
    )
    second = obtain_dense_model("resnet20", train, cache_dir=tmp_path, epochs=2, batch_size=64)

    assert first.source == "trained"
    assert len(losses) == 8
    assert second.source == "cache"
    assert second.path == tmp_path / dense_checkpoint_name("resnet20", "cifar10", 2, 0)
    assert _same_weights(first.model, second.model)
    assert second.metadata["train_images"] == 256
