from __future__ import annotations

import numpy as np
import pytest

from optuna_hwprune.nasbench.constraints import feasible_mask, parse_constraints
from optuna_hwprune.nasbench.pareto import pareto_front, select_diverse
from optuna_hwprune.nasbench.seeds import find_seeds
from optuna_hwprune.nasbench.table import load_table


def test_front_is_feasible_and_non_dominated() -> None:
    table = load_table()
    constraints = parse_constraints(["fpga_latency<=2.5", "params<=1.1e6"], table, "cifar10")
    front = pareto_front(table, "cifar10", "fpga_latency", constraints)
    mask = feasible_mask(table, "cifar10", constraints)
    cost = table.column("cifar10", "fpga_latency")
    accuracy = table.column("cifar10", "test_accuracy")
    assert mask[front].all()
    assert (np.diff(cost[front]) > 0).all()
    assert (np.diff(accuracy[front]) > 0).all()
    feasible = np.flatnonzero(mask)
    for index in front:
        dominated = (cost[feasible] <= cost[index]) & (accuracy[feasible] > accuracy[index])
        assert not dominated.any()
    assert accuracy[front[-1]] == accuracy[feasible].max()


def test_diverse_seeds_are_distinct_feasible_cells() -> None:
    table = load_table()
    constraints = parse_constraints(["fpga_latency<=2.5"], table, "cifar10")
    seeds = select_diverse(table, "cifar10", "fpga_latency", 8, constraints)
    assert len(seeds) == 8
    assert len({int(table.unique_ids[index]) for index in seeds}) == 8
    assert feasible_mask(table, "cifar10", constraints)[seeds].all()
    front = pareto_front(table, "cifar10", "fpga_latency", constraints)
    assert seeds[0] == front[-1]
    assert set(front.tolist()) <= set(seeds)


def test_find_seeds_records_bench_metrics() -> None:
    seeds = find_seeds("cifar100", "edgegpu_energy", 3, parse_constraints(["edgegpu_energy<=20"], load_table(), "cifar100"))
    assert len(seeds) == 3
    for seed in seeds:
        assert seed.reference == "cifar100"
        assert seed.metrics["edgegpu_energy"] <= 20
        assert seed.to_dict()["arch"] == seed.arch


def test_seed_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="0"):
        select_diverse(load_table(), "cifar10", "fpga_latency", 0)
