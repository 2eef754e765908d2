"""PruningObjective on real CIFAR-10 images with small budgets."""

from __future__ import annotations

import copy

import optuna
import pytest
import torch
from conftest import require_data
from optuna.trial import TrialState

from optuna_hwprune.datasets import load_dataset
from optuna_hwprune.hardware import FPGAEstimator
from optuna_hwprune.pruning import (
    PruningObjective,
    apply_masks,
    build_model,
    magnitude_masks,
    prunable_layers,
    sparsity_param,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cifar() -> dict[str, object]:
    root = require_data("cifar10/cifar10-jpeg.zip").parent
    return {
        "train": load_dataset("cifar10", root, "train").subset(256, seed=0),
        "val": load_dataset("cifar10", root, "val").subset(200, seed=0),
        "test": load_dataset("cifar10", root, "test").subset(200, seed=0),
    }


def _objective(cifar: dict[str, object], **options: object) -> PruningObjective:
    torch.manual_seed(0)
    model = build_model("resnet20", num_classes=10)
    settings = {"finetune_steps": 2, "batch_size": 64, "seed": 0}
    settings.update(options)
    return PruningObjective(model, cifar["train"], cifar["val"], cifar["test"], **settings)


def _study() -> optuna.Study:
    return optuna.create_study(
        directions=["maximize", "maximize"], sampler=optuna.samplers.RandomSampler(seed=0)
    )


def test_objective_trial_attributes(cifar) -> None:
    objective = _objective(cifar)
    study = _study()
    study.optimize(objective, n_trials=2)

    names = list(prunable_layers(objective.dense_model))
    for trial in study.trials:
        assert trial.state == TrialState.COMPLETE
        assert set(trial.params) == {sparsity_param(name) for name in names}
        accuracy, speedup = trial.values
        assert 0.0 <= accuracy <= 1.0
        assert speedup >= 1.0

        attrs = trial.user_attrs
        assert set(attrs["requested_sparsity"]) == set(names)
        for name, requested in attrs["requested_sparsity"].items():
            numel = prunable_layers(objective.dense_model)[name].weight.numel()
            assert attrs["measured_sparsity"][name] == pytest.approx(requested, abs=1.0 / numel + 1e-6)
        for key in ("nonzero_params", "macs", "latency_ms", "energy_mj", "test_accuracy", "val_loss"):
            assert key in attrs, key
        assert attrs["latency_ms"] < objective.dense_estimate.latency_ms
        assert attrs["macs"] <= objective.dense_estimate.macs


def test_objective_speedup_matches_estimator(cifar) -> None:
    objective = _objective(cifar, finetune_steps=0)
    study = _study()
    study.enqueue_trial({sparsity_param(name): 0.5 for name in objective.layer_names})
    study.optimize(objective, n_trials=1)

    model = copy.deepcopy(objective.dense_model)
    masks = magnitude_masks(model, {name: 0.5 for name in objective.layer_names})
    achieved = {name: 1.0 - float(mask.mean()) for name, mask in masks.items()}
    expected = FPGAEstimator().speedup(objective.workloads, achieved)
    assert study.trials[0].values[1] == pytest.approx(expected)


def test_objective_no_leakage_between_trials(cifar) -> None:
    objective = _objective(cifar)
    dense_state = {key: value.clone() for key, value in objective.dense_model.state_dict().items()}
    low = {sparsity_param(name): 0.3 for name in objective.layer_names}
    high = {sparsity_param(name): 0.85 for name in objective.layer_names}
    study = _study()
    for params in (low, high, low):
        study.enqueue_trial(params)
    study.optimize(objective, n_trials=3)

    first, second, third = study.trials
    assert first.values == third.values
    assert first.user_attrs["nonzero_params"] == third.user_attrs["nonzero_params"]
    assert second.user_attrs["nonzero_params"] < first.user_attrs["nonzero_params"]
    for key, value in objective.dense_model.state_dict().items():
        assert torch.equal(value, dense_state[key]), key


def test_objective_layer_selection(cifar) -> None:
    objective = _objective(cifar, layers=["layer3.*"], finetune_steps=0)
    study = _study()
    study.optimize(objective, n_trials=1)

    trial = study.trials[0]
    assert len(trial.params) == 6
    assert all(name.startswith("sparsity/layer3.") for name in trial.params)
    assert trial.user_attrs["measured_sparsity"].keys() == trial.user_attrs["requested_sparsity"].keys()


def test_objective_structured_speedup(cifar) -> None:
    objective = _objective(cifar, structured=True, finetune_steps=0, sparsity_range=(0.5, 0.5))
    study = _study()
    study.optimize(objective, n_trials=1)

    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    assert trial.values[1] > 1.0
    assert trial.user_attrs["measured_sparsity"]["layer2.0.conv1"] == pytest.approx(0.5)


def test_nonfinite_loss_fails_trial_and_study_continues(cifar) -> None:
    objective = _objective(cifar, finetune_lr=1e30)
    study = _study()
    study.optimize(objective, n_trials=1)

    failed = study.trials[0]
    assert failed.state == TrialState.FAIL
    assert "loss became" in failed.user_attrs["fail_reason"]
    assert failed.values is None

    objective.finetune_lr = 0.01
    study.optimize(objective, n_trials=1)
    assert study.trials[1].state == TrialState.COMPLETE
    assert len(study.best_trials) == 1


@pytest.mark.parametrize("bounds", [(0.2, 1.0), (-0.1, 0.5), (0.6, 0.4)])
def test_objective_rejects_invalid_range(cifar, bounds) -> None:
    with pytest.raises(ValueError, match="sparsity_range"):
        _objective(cifar, sparsity_range=bounds)


def test_objective_rejects_masked_model(cifar) -> None:
    model = build_model("resnet20", num_classes=10)
    apply_masks(model, magnitude_masks(model, {"fc": 0.5}))
    with pytest.raises(ValueError, match="masks"):
        PruningObjective(model, cifar["train"], cifar["val"])


def test_objective_rejects_negative_bn_batches(cifar) -> None:
    with pytest.raises(ValueError, match="bn_batches must be >= 0, got -1"):
        _objective(cifar, bn_batches=-1)
