from __future__ import annotations

import numpy as np
import pytest
import torch

from optuna_hwprune.nasbench.network import CellNetwork, count_macs, count_parameters, estimate_memory_bytes
from optuna_hwprune.nasbench.space import NUM_ARCHS, index_to_arch
from optuna_hwprune.nasbench.table import DATASET_SHAPES, load_table

SAMPLE = [0, 1, 25, 4384, 6111, 9930, 857, 15624] + np.random.default_rng(0).integers(0, NUM_ARCHS, 6).tolist()


@pytest.mark.parametrize("dataset", list(DATASET_SHAPES))
def test_parameter_count_equals_table(dataset: str) -> None:
    table = load_table()
    num_classes, shape = DATASET_SHAPES[dataset]
    for index in SAMPLE:
        model = CellNetwork(index_to_arch(index), num_classes, in_channels=shape[0])
        assert count_parameters(model) == table.column(dataset, "params")[index], index


def test_macs_equal_table() -> None:
    table = load_table()
    for index in SAMPLE[:4]:
        model = CellNetwork(index_to_arch(index), 10)
        assert count_macs(model, (3, 32, 32)) == table.column("cifar10", "flops")[index]


def test_all_conv3x3_cell_size() -> None:
    # The largest NAS-Bench-201 cell network on CIFAR-10: 1.53 M parameters, 220 M MACs.
    model = CellNetwork("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", 10)
    assert count_parameters(model) == 1_531_546
    assert count_macs(model, (3, 32, 32)) == 220_119_680


def test_grey_input_and_any_classes() -> None:
    model = CellNetwork(index_to_arch(6111), num_classes=7, in_channels=1)
    logits = model(torch.randn(4, 1, 28, 28))
    assert logits.shape == (4, 7)
    rgb = CellNetwork(index_to_arch(6111), num_classes=7, in_channels=3)
    # Only the stem's first convolution depends on the input channels: 16 x 2 x 3 x 3 weights.
    assert count_parameters(rgb) - count_parameters(model) == 16 * 2 * 9


def test_none_cell_still_trains() -> None:
    model = CellNetwork("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", 3)
    loss = model(torch.randn(2, 3, 16, 16)).sum()
    loss.backward()
    assert model.classifier.weight.grad is not None


def test_memory_estimate_counts_weights_and_activations() -> None:
    model = CellNetwork(index_to_arch(0), 10)
    memory = estimate_memory_bytes(model, (3, 32, 32))
    floats = sum(t.numel() for t in model.state_dict().values() if t.is_floating_point())
    assert memory["weights"] == 4 * floats
    # First-stage cells hold 5 maps of 16 x 32 x 32 floats at once.
    assert memory["peak_activations"] == 4 * 5 * 16 * 32 * 32
    assert memory["total"] == memory["weights"] + memory["peak_activations"]


def test_invalid_sizes_raise() -> None:
    with pytest.raises(ValueError, match="num_classes"):
        CellNetwork(index_to_arch(0), 0)
