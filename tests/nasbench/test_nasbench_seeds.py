from __future__ import annotations

import numpy as np
import optuna
import pytest
import torch
from conftest import require_data
from optuna.trial import TrialState

from optuna_hwprune.nasbench._training import accuracy, evaluate, predict
from optuna_hwprune.nasbench.constraints import parse_constraints
from optuna_hwprune.nasbench.network import CellNetwork
from optuna_hwprune.nasbench.objective import (
    SeedSearchObjective,
    seed_params,
    suggest_arch,
    suggest_hyperparameters,
)
from optuna_hwprune.nasbench.seeds import enqueue_seeds, find_seeds
from optuna_hwprune.nasbench.space import arch_to_index, arch_to_ops, index_to_arch
from optuna_hwprune.nasbench.table import load_table

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _bench_objective(trial: optuna.trial.Trial) -> float:
    arch = suggest_arch(trial)
    suggest_hyperparameters(trial, max_epochs=3)
    trial.set_user_attr("ran_index", arch_to_index(arch))
    return float(load_table().query(arch, "cifar10")["test_accuracy"])


def test_seed_trials_run_exact_params() -> None:
    table = load_table()
    seeds = find_seeds("cifar10", "fpga_latency", 3, parse_constraints(["fpga_latency<=2.5"], table, "cifar10"))
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    enqueue_seeds(study, seeds, max_epochs=3)
    study.optimize(_bench_objective, n_trials=5)

    for seed, trial in zip(seeds, study.trials):
        assert trial.params == seed_params(arch_to_ops(seed.arch), 3)
        assert trial.user_attrs["ran_index"] == seed.index
        assert trial.user_attrs["source"] == "seed"
        assert trial.user_attrs["seed_index"] == seed.index
        assert trial.user_attrs["seed_arch"] == seed.arch
        assert trial.user_attrs["seed_reference"] == "cifar10"
        assert trial.user_attrs["seed_metrics"]["fpga_latency"] == seed.metrics["fpga_latency"]
    for trial in study.trials[3:]:
        assert "source" not in trial.user_attrs


def test_enqueue_skips_seeds_already_run() -> None:
    seeds = find_seeds("cifar10", "fpga_latency", 2)
    study = optuna.create_study(direction="maximize")
    enqueue_seeds(study, seeds)
    study.optimize(_bench_objective, n_trials=2)
    enqueue_seeds(study, seeds)
    assert len(study.get_trials(states=(TrialState.WAITING,))) == 0


@pytest.fixture(scope="module")
def breast():
    require_data("medmnist/breastmnist.npz")
    from optuna_hwprune.datasets import load_dataset

    root = require_data("medmnist")
    return {split: load_dataset("breastmnist", root, split, download=False) for split in ("train", "val", "test")}


def test_accuracy_equals_manual_argmax(breast) -> None:
    raw = np.load(require_data("medmnist/breastmnist.npz"))["test_labels"]
    assert raw.shape == (156, 1)
    torch.manual_seed(0)
    model = CellNetwork(index_to_arch(4384), 2, in_channels=1)
    logits = predict(model, breast["test"], torch.device("cpu"))
    manual = float(np.mean(logits.numpy().argmax(axis=1) == raw[:, 0]))
    assert evaluate(model, breast["test"], torch.device("cpu")) == pytest.approx(manual, abs=1e-7)
    assert accuracy(logits, torch.from_numpy(raw.astype(np.int64))) == pytest.approx(manual, abs=1e-7)


def test_seed_with_other_cell_fails(breast) -> None:
    objective = SeedSearchObjective(breast["train"], breast["val"], breast["test"], "cifar10", max_epochs=1, device="cpu")
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(seed_params(arch_to_ops(index_to_arch(10)), 1), user_attrs={"source": "seed", "seed_index": 11})
    trial = study.ask()
    with pytest.raises(RuntimeError, match="enqueued as seed cell 11 but suggests cell 10"):
        objective(trial)


def test_infeasible_cell_is_pruned_untrained(breast) -> None:
    table = load_table()
    constraints = parse_constraints(["fpga_latency<=2.5", "edgetpu_latency<=100"], table, "cifar10")
    objective = SeedSearchObjective(breast["train"], breast["val"], breast["test"], "cifar10", constraints, max_epochs=1)
    study = optuna.create_study(direction="maximize")
    missing_tpu = int(np.flatnonzero(np.isnan(table.column("cifar10", "edgetpu_latency")))[0])
    for index in (6111, missing_tpu):
        study.enqueue_trial(seed_params(arch_to_ops(index_to_arch(index)), 1))
    study.optimize(objective, n_trials=2)

    slow, no_tpu = study.trials
    assert slow.state == TrialState.PRUNED
    assert slow.user_attrs["feasible"] is False
    assert "lr" not in slow.params
    assert "test_accuracy" not in slow.user_attrs
    assert slow.constraints["fpga_latency<=2.5"] == pytest.approx(6.67856 - 2.5)
    assert slow.constraints["edgetpu_latency<=100"] <= 0
    assert no_tpu.state == TrialState.PRUNED
    assert no_tpu.constraints["edgetpu_latency<=100"] > 0
