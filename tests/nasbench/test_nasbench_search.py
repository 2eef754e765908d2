from __future__ import annotations

import optuna
import pytest
from conftest import require_data
from optuna.trial import TrialState

from optuna_hwprune.nasbench.objective import METRIC_NAME, seed_params
from optuna_hwprune.nasbench.search import run_seed_search
from optuna_hwprune.nasbench.space import arch_to_ops


@pytest.mark.slow
def test_seed_search_on_breastmnist(tmp_path) -> None:
    root = require_data("medmnist")
    require_data("medmnist/breastmnist.npz")
    storage = f"sqlite:///{tmp_path / 'seed.db'}"
    study, summary = run_seed_search(
        "breastmnist",
        data_root=root,
        constraints=["fpga_latency<=2.5", "params<=1.1e6"],
        n_seeds=2,
        n_trials=3,
        max_epochs=1,
        storage=storage,
        study_name="seed-test",
        seed=0,
        device="cpu",
        download=False,
        train_subset=96,
    )

    assert summary["reference"] == "cifar10"
    assert set(summary["similarity"]) == {"cifar10", "cifar100", "ImageNet16-120"}
    assert summary["descriptor"]["num_classes"] == 2
    assert len(summary["seeds"]) == 2

    completed = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(completed) == 3
    for seed, trial in zip(summary["seeds"], completed[:2]):
        assert trial.params == seed_params(arch_to_ops(seed["arch"]), 1)
        assert trial.user_attrs["index"] == seed["index"]
        assert trial.user_attrs["source"] == "seed"
    for trial in completed:
        assert trial.user_attrs["feasible"] is True
        assert trial.user_attrs["bench_fpga_latency"] <= 2.5
        assert trial.user_attrs["bench_params"] <= 1.1e6
        assert 0.0 <= trial.user_attrs["test_accuracy"] <= 1.0
    assert completed[2].user_attrs["source"] == "sampler"

    reopened = optuna.load_study(study_name="seed-test", storage=storage)
    assert reopened.metric_names == [METRIC_NAME]
    best = summary["best_trial"]
    assert best["val_accuracy"] == max(trial.value for trial in completed)
    assert [t["number"] for t in summary["trials"]] == [t.number for t in study.trials]
