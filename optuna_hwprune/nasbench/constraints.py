"""Hardware and cost constraints on NAS-Bench-201 cells, such as ``fpga_latency<=2.5``."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from optuna_hwprune.nasbench.table import BenchTable, normalize_dataset

OPERATORS: tuple[str, ...] = ("<=", ">=", "<", ">")

_PATTERN = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(<=|>=|<|>)\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")


class UnsatisfiableConstraintsError(ValueError):
    """No cell of the table meets all constraints."""


@dataclass(frozen=True)
class Constraint:
    """An upper or lower bound on one table metric.

    Attributes:
        metric: Metric name, e.g. ``"fpga_latency"`` or ``"params"``.
        operator: One of ``<=``, ``>=``, ``<``, ``>``.
        bound: The bound, in the metric's unit (ms, mJ, parameters, MACs, percent).
    """

    metric: str
    operator: str
    bound: float

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"invalid operator {self.operator!r}; valid: {', '.join(OPERATORS)}")
        if not math.isfinite(self.bound):
            raise ValueError(f"constraint bound must be finite, got {self.bound}")

    def __str__(self) -> str:
        return f"{self.metric}{self.operator}{self.bound:g}"

    def violation(self, values: np.ndarray | float) -> np.ndarray:
        """Return how far ``values`` are from meeting the bound (<= 0: met, inf: missing).

        The sign convention is Optuna's ``constraints_func``: a value is feasible when its
        violation is at most 0. Strict bounds are shifted by one ulp so that ``value == bound``
        counts as violated.
        """
        values = np.asarray(values, dtype=np.float64)
        if self.operator == "<=":
            result = values - self.bound
        elif self.operator == "<":
            result = values - np.nextafter(self.bound, -np.inf)
        elif self.operator == ">=":
            result = self.bound - values
        else:
            result = np.nextafter(self.bound, np.inf) - values
        return np.where(np.isnan(result), np.inf, result)


def parse_constraint(text: str | Constraint, valid_metrics: Iterable[str] | None = None) -> Constraint:
    """Parse ``"<metric><op><value>"`` (``<=``, ``>=``, ``<`` or ``>``) into a :class:`Constraint`.

    Args:
        text: For example ``"fpga_latency<=2.5"`` or ``"params <= 1.1e6"``.
        valid_metrics: Metric names to accept; any name when None.

    Raises:
        ValueError: If the text does not parse or names an unknown metric.
    """
    if isinstance(text, Constraint):
        constraint = text
    else:
        match = _PATTERN.match(str(text))
        if match is None:
            raise ValueError(
                f"invalid constraint {text!r}; write METRIC<=VALUE (or >=, <, >), "
                "for example 'fpga_latency<=2.5'"
            )
        constraint = Constraint(match.group(1), match.group(2), float(match.group(3)))
    if valid_metrics is not None:
        valid = tuple(valid_metrics)
        if constraint.metric not in valid:
            raise ValueError(f"unknown metric {constraint.metric!r} in constraint {str(text)!r}; valid: {', '.join(valid)}")
    return constraint


def parse_constraints(
    texts: Iterable[str | Constraint], table: BenchTable, dataset: str
) -> list[Constraint]:
    """Parse constraints against the metrics that ``table`` holds for ``dataset``."""
    metrics = table.metrics(dataset)
    return [parse_constraint(text, metrics) for text in texts]


def violations(table: BenchTable, dataset: str, constraints: Sequence[Constraint]) -> np.ndarray:
    """Return the violation of every cell under every constraint, shape ``15625 x len(constraints)``."""
    columns = [constraint.violation(table.column(dataset, constraint.metric)) for constraint in constraints]
    if not columns:
        return np.zeros((len(table.unique_ids), 0))
    return np.stack(columns, axis=1)


def feasible_mask(table: BenchTable, dataset: str, constraints: Sequence[Constraint]) -> np.ndarray:
    """Return a boolean mask of the cells that meet every constraint (missing values never do).

    Raises:
        UnsatisfiableConstraintsError: If no cell meets them; the message names the nearest cell
            and by how much it misses each bound.
    """
    dataset = normalize_dataset(dataset)
    violation = violations(table, dataset, constraints)
    mask = (violation <= 0).all(axis=1)
    if not mask.any():
        raise UnsatisfiableConstraintsError(_describe_nearest(table, dataset, constraints, violation))
    return mask


def _describe_nearest(
    table: BenchTable, dataset: str, constraints: Sequence[Constraint], violation: np.ndarray
) -> str:
    # Distance to feasibility: the sum of violations relative to each bound's magnitude.
    scales = np.array([max(abs(constraint.bound), 1e-12) for constraint in constraints])
    relative = np.clip(violation, 0, None) / scales
    nearest = int(np.argmin(relative.sum(axis=1)))
    from optuna_hwprune.nasbench.space import index_to_arch

    parts = []
    for column, constraint in enumerate(constraints):
        value = table.column(dataset, constraint.metric)[nearest]
        missed = violation[nearest, column]
        status = "met" if missed <= 0 else f"misses by {missed:.4g}"
        parts.append(f"{constraint.metric}={value:.4g} ({constraint}: {status})")
    wanted = " and ".join(str(constraint) for constraint in constraints)
    return (
        f"no NAS-Bench-201 cell on {dataset} meets {wanted}; the nearest is index {nearest} "
        f"{index_to_arch(nearest)} with " + ", ".join(parts) + ". Relax a bound."
    )
