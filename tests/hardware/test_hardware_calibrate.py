"""calibrate(): fitting a device profile to measured latencies and energies."""

from __future__ import annotations

import ast
import csv

import numpy as np
import pytest

from conftest import require_data
from optuna_hwprune.hardware import calibrate
from optuna_hwprune.hardware import default_profile
from optuna_hwprune.hardware import FPGAEstimator
from optuna_hwprune.hardware import workloads_from_ops


# HW-NAS-Bench's CSV op ids, and its edge order mapped to arch-string edge order.
CSV_OPS = {0: "skip_connect", 1: "none", 2: "nor_conv_3x3", 3: "nor_conv_1x1", 4: "avg_pool_3x3"}
CSV_TO_ARCH_EDGES = (0, 1, 3, 2, 4, 5)


def load_cells(dataset: str, indices: list[int]) -> tuple[list, list[float], list[float]]:
    path = require_data(f"hw-nas-bench/hw_{dataset}.csv")
    wanted = set(indices)
    networks, latencies, energies = [], [], []
    with open(path, newline="") as file:
        for index, row in enumerate(csv.DictReader(file)):
            if index not in wanted:
                continue
            ids = ast.literal_eval(row["net"])
            ops = tuple(CSV_OPS[ids[edge]] for edge in CSV_TO_ARCH_EDGES)
            networks.append(workloads_from_ops(ops, dataset))
            latencies.append(float(row["fpga_latency"]))
            energies.append(float(row["fpga_energy"]))
    return networks, latencies, energies


@pytest.fixture(scope="module")
def real_subset():
    indices = np.random.default_rng(1).choice(15625, 15, replace=False).tolist()
    networks, latencies, energies = [], [], []
    for dataset in ("cifar10", "ImageNet16-120"):
        subset = load_cells(dataset, indices)
        networks += subset[0]
        latencies += subset[1]
        energies += subset[2]
    return networks, latencies, energies


def test_calibrate_recovers_from_a_poor_start(real_subset) -> None:
    networks, latencies, energies = real_subset
    start = default_profile().with_updates(
        spatial_macs_per_cycle=60.0, pointwise_macs_per_cycle=150.0, static_power_w=2.0
    )
    before = [FPGAEstimator(start).estimate(w).latency_ms for w in networks]
    before_mape = float(np.mean(np.abs(np.array(before) - latencies) / latencies))

    result = calibrate(
        networks, latencies, energies, base_profile=start, buffer_kib_candidates=[start.buffer_kib]
    )

    assert before_mape > 0.2
    assert result.latency_mape < 0.06
    assert result.energy_mape is not None
    assert result.energy_mape < 0.06
    assert result.num_networks == 30
    assert len(result.free_parameters) <= 8
    assert result.profile.static_power_w == pytest.approx(7.0, rel=0.1)


def test_calibrate_without_energy_keeps_power(real_subset) -> None:
    networks, latencies, _ = real_subset
    base = default_profile()
    result = calibrate(networks[:6], latencies[:6], base_profile=base, buffer_kib_candidates=[base.buffer_kib])

    assert result.energy_mape is None
    assert result.profile.static_power_w == base.static_power_w
    assert "static_power_w" not in result.free_parameters


def test_calibrate_rejects_bad_input(real_subset) -> None:
    networks, latencies, _ = real_subset
    with pytest.raises(ValueError, match="same length"):
        calibrate(networks[:3], latencies[:2])
    with pytest.raises(ValueError, match="bit_width"):
        calibrate(networks[:3], latencies[:3], parameters=("bit_width",))
    with pytest.raises(ValueError, match="positive"):
        calibrate(networks[:3], [1.0, -1.0, 2.0])
