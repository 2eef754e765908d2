"""Batch-norm recalibration of a masked model on real CIFAR-10 images."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import require_data
from torch import nn

from optuna_hwprune.datasets import iterate_batches, load_dataset
from optuna_hwprune.pruning import (
    apply_masks,
    build_model,
    magnitude_masks,
    prunable_layers,
    recalibrate_batchnorm,
)


@pytest.fixture(scope="module")
def train_set():
    root = require_data("cifar10/cifar10-jpeg.zip").parent
    return load_dataset("cifar10", root, "train").subset(128, seed=0)


def _masked_model() -> nn.Module:
    torch.manual_seed(0)
    model = build_model("resnet20", num_classes=10)
    sparsity = {name: 0.7 for name in prunable_layers(model)}
    apply_masks(model, magnitude_masks(model, sparsity))
    return model


def _norms(model: nn.Module) -> list[nn.BatchNorm2d]:
    return [module for module in model.modules() if isinstance(module, nn.BatchNorm2d)]


def test_recalibration_matches_batch_statistics(train_set) -> None:
    model = _masked_model().eval()
    images = recalibrate_batchnorm(model, train_set, batches=1, batch_size=64, augment=False, channels_last=False)
    assert images == 64
    assert not model.training

    # With the statistics of one batch, evaluation on that batch normalises as training does,
    # up to the unbiased variance estimate.
    x, _ = next(iter(iterate_batches(train_set, 64, shuffle=True, seed=0)))
    with torch.no_grad():
        evaluated = model(x)
        trained = copy.deepcopy(model).train()(x)
    assert torch.allclose(evaluated, trained, atol=1e-2, rtol=1e-2)
    assert all(norm.momentum == 0.1 for norm in _norms(model))


def test_recalibration_keeps_weights_and_masks(train_set) -> None:
    model = _masked_model()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    recalibrate_batchnorm(model, train_set, batches=2, batch_size=32, channels_last=False)
    after = model.state_dict()

    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert changed, "no running statistic changed"
    assert all(name.endswith(("running_mean", "running_var", "num_batches_tracked")) for name in changed)
    for name, layer in prunable_layers(model).items():
        assert int((layer.weight[layer.weight_mask == 0] != 0).sum()) == 0, name


def test_recalibration_is_deterministic(train_set) -> None:
    first, second = _masked_model(), _masked_model()
    recalibrate_batchnorm(first, train_set, batches=2, batch_size=32, seed=3, channels_last=False)
    recalibrate_batchnorm(second, train_set, batches=2, batch_size=32, seed=3, channels_last=False)
    for norm, twin in zip(_norms(first), _norms(second)):
        assert torch.equal(norm.running_mean, twin.running_mean)
        assert torch.equal(norm.running_var, twin.running_var)


def test_recalibration_budget(train_set) -> None:
    model = _masked_model()
    before = copy.deepcopy(model.state_dict())
    assert recalibrate_batchnorm(model, train_set, batches=0) == 0
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    with pytest.raises(ValueError, match="batches must be >= 0"):
        recalibrate_batchnorm(model, train_set, batches=-1)
