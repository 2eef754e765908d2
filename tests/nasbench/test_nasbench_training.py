from __future__ import annotations

import math

import pytest
import torch
from conftest import require_data

from optuna_hwprune.nasbench._training import evaluate, make_optimizer, torch_threads, train, warmup_cosine
from optuna_hwprune.nasbench.network import CellNetwork
from optuna_hwprune.nasbench.objective import DEFAULT_HYPERPARAMETERS
from optuna_hwprune.nasbench.space import index_to_arch


def test_warmup_then_cosine_to_zero() -> None:
    factor = warmup_cosine(100)
    rates = [factor(step) for step in range(100)]
    assert rates[0] == pytest.approx(0.1)
    assert rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(rates[9:], rates[10:]))
    assert rates[-1] < 0.001
    assert warmup_cosine(1)(0) == 1.0


def test_unknown_optimizer_names_choices() -> None:
    with pytest.raises(ValueError, match="unknown optimizer 'adam'; valid: adamw, sgd"):
        make_optimizer("adam", [torch.nn.Parameter(torch.zeros(1))], 0.1, 0.0)


@pytest.fixture(scope="module")
def breast():
    require_data("medmnist/breastmnist.npz")
    from optuna_hwprune.datasets import load_dataset

    root = require_data("medmnist")
    return {split: load_dataset("breastmnist", root, split, download=False) for split in ("train", "val")}


def test_seed_recipe_beats_majority_class(breast) -> None:
    # BreastMNIST's majority class is 57 of the 78 validation images (0.731).
    majority = float(torch.bincount(breast["val"].labels).max()) / len(breast["val"])
    assert majority == pytest.approx(0.7308, abs=1e-4)
    torch.manual_seed(0)
    model = CellNetwork(index_to_arch(4384), 2, in_channels=1)
    hyperparameters = dict(DEFAULT_HYPERPARAMETERS)
    with torch_threads(1):
        result = train(
            model, breast["train"], epochs=3, device=torch.device("cpu"), seed=0, val=breast["val"], **hyperparameters
        )
        on_val = evaluate(model, breast["val"], torch.device("cpu"))
    assert result.steps == 3 * (546 // hyperparameters["batch_size"])
    assert len(result.val_accuracies) == 3
    assert result.best_val_accuracy == max(result.val_accuracies)
    assert result.best_val_accuracy > majority + 0.03
    assert math.isfinite(result.train_loss)
    # The model contains the best epoch's weights.
    assert on_val == pytest.approx(result.best_val_accuracy)


def test_thread_count_is_restored() -> None:
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="num_threads must be a positive integer or None, got 0"):
        with torch_threads(0):
            pass
