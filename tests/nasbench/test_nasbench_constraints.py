from __future__ import annotations

import numpy as np
import pytest

from optuna_hwprune.nasbench.constraints import (
    Constraint,
    UnsatisfiableConstraintsError,
    feasible_mask,
    parse_constraint,
    parse_constraints,
)
from optuna_hwprune.nasbench.table import load_table


@pytest.mark.parametrize(
    "text, expected",
    [
        ("fpga_latency<=2.5", Constraint("fpga_latency", "<=", 2.5)),
        ("params <= 1.1e6", Constraint("params", "<=", 1.1e6)),
        ("test_accuracy>=90", Constraint("test_accuracy", ">=", 90.0)),
        (" edgegpu_energy < 20 ", Constraint("edgegpu_energy", "<", 20.0)),
        ("flops>1E7", Constraint("flops", ">", 1e7)),
    ],
)
def test_parse_constraint(text: str, expected: Constraint) -> None:
    assert parse_constraint(text) == expected


def test_parse_rejects_bad_text() -> None:
    with pytest.raises(ValueError, match="METRIC<=VALUE"):
        parse_constraint("fpga_latency=2.5")


def test_unknown_metric_lists_valid_ones() -> None:
    table = load_table()
    with pytest.raises(ValueError) as error:
        parse_constraints(["fpga_latncy<=2.5"], table, "cifar10")
    message = str(error.value)
    assert "fpga_latncy" in message
    for metric in ("fpga_latency", "edgegpu_energy", "params", "test_accuracy"):
        assert metric in message


def test_strict_and_inclusive_bounds() -> None:
    assert Constraint("params", "<=", 10).violation(10) <= 0
    assert Constraint("params", "<", 10).violation(10) > 0
    assert Constraint("params", ">=", 10).violation(10) <= 0
    assert Constraint("params", ">", 10).violation(10) > 0
    assert Constraint("params", ">", 10).violation(11) <= 0


def test_feasible_mask_matches_columns() -> None:
    table = load_table()
    constraints = parse_constraints(["fpga_latency<=2.5", "params<=1.1e6"], table, "cifar10")
    mask = feasible_mask(table, "cifar10", constraints)
    expected = (table.column("cifar10", "fpga_latency") <= 2.5) & (table.column("cifar10", "params") <= 1.1e6)
    np.testing.assert_array_equal(mask, expected)
    assert int(mask.sum()) == 2240


def test_missing_measurement_is_never_feasible() -> None:
    table = load_table()
    mask = feasible_mask(table, "cifar10", parse_constraints(["edgetpu_latency<=100"], table, "cifar10"))
    assert int(mask.sum()) == 15625 - 4699
    assert not mask[np.isnan(table.column("cifar10", "edgetpu_latency"))].any()


def test_unsatisfiable_names_nearest_cell() -> None:
    table = load_table()
    constraints = parse_constraints(["fpga_latency<=0.5", "params<=1e5"], table, "cifar10")
    with pytest.raises(UnsatisfiableConstraintsError) as error:
        feasible_mask(table, "cifar10", constraints)
    message = str(error.value)
    nearest = int(np.nanargmin(table.column("cifar10", "fpga_latency")))
    fastest = table.column("cifar10", "fpga_latency")[nearest]
    assert f"index {nearest}" in message
    assert f"misses by {fastest - 0.5:.4g}" in message
    assert "fpga_latency<=0.5" in message
