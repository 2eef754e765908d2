"""Workload extraction from torch models and from NAS-Bench-201 arch strings."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from optuna_hwprune.hardware import extract_workloads
from optuna_hwprune.hardware import workloads_from_arch
from optuna_hwprune.nasbench.network import CellNetwork
from optuna_hwprune.nasbench.space import index_to_arch


class SmallResidualNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2, bias=False)
        self.shortcut = nn.Conv2d(8, 16, 1, stride=2, bias=False)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.conv2(x) + self.shortcut(x)
        x = self.relu(x)
        return self.fc(torch.flatten(self.pool(x), 1))


def test_extract_small_net_by_hand() -> None:
    workloads = extract_workloads(SmallResidualNet(), torch.zeros(1, 3, 16, 16))
    by_name = {workload.name: workload for workload in workloads}

    assert [w.name for w in workloads] == [
        "conv1", "bn1", "relu", "conv2", "shortcut", "add.0", "relu:1", "pool", "fc",
    ]
    # MACs = output elements x (input channels per group) x kernel area.
    assert by_name["conv1"].macs == 8 * 16 * 16 * 3 * 9
    assert by_name["conv2"].macs == 16 * 8 * 8 * 4 * 9
    assert by_name["shortcut"].macs == 16 * 8 * 8 * 8
    assert by_name["fc"].macs == 256 * 10
    assert by_name["conv2"].weight_count == 16 * 4 * 9
    assert by_name["fc"].weight_count == 256 * 10 + 10
    assert by_name["bn1"].weight_count == 16
    assert by_name["conv2"].groups == 2
    assert by_name["conv2"].stride == (2, 2)
    assert by_name["conv2"].out_shape == (16, 8, 8)
    assert by_name["add.0"].kind == "add"
    assert by_name["add.0"].out_shape == (16, 8, 8)
    assert by_name["pool"].kind == "pool"
    assert by_name["pool"].kernel_size == (2, 2)
    assert by_name["pool"].out_shape == (16, 4, 4)
    assert by_name["fc"].in_shape == (256, 1, 1)
    assert by_name["conv1"].weight_bytes == 8 * 3 * 9 * 2
    assert by_name["conv1"].activation_bytes == (3 * 256 + 8 * 256) * 2


def test_extract_is_per_sample_and_restores_mode() -> None:
    model = SmallResidualNet().train()
    single = extract_workloads(model, torch.zeros(1, 3, 16, 16))
    batch = extract_workloads(model, torch.zeros(4, 3, 16, 16))

    assert single == batch
    assert model.training


def test_extract_rejects_input_without_batch() -> None:
    with pytest.raises(ValueError, match="batch dimension"):
        extract_workloads(SmallResidualNet(), torch.zeros(16))


@pytest.mark.parametrize(
    ("dataset", "size", "classes"),
    [("cifar10", 32, 10), ("cifar100", 32, 100), ("ImageNet16-120", 16, 120)],
)
@pytest.mark.parametrize("index", [0, 1, 6111, 15624])
def test_arch_path_matches_torch_path(dataset: str, size: int, classes: int, index: int) -> None:
    arch = index_to_arch(index)
    traced = extract_workloads(CellNetwork(arch, classes), torch.zeros(1, 3, size, size))

    assert workloads_from_arch(arch, dataset) == traced


def test_arch_path_block_names() -> None:
    workloads = workloads_from_arch(index_to_arch(0), "cifar10")
    blocks = {workload.block for workload in workloads}

    assert blocks == {"stem", "head", "pool", "classifier", *(f"cells.{i}" for i in range(17))}


def test_arch_path_rejects_unknown_dataset() -> None:
    with pytest.raises(ValueError, match="ImageNet16-120"):
        workloads_from_arch(index_to_arch(0), "imagenet")
