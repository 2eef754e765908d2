"""Pareto front of accuracy against one hardware metric, and a diverse choice of seeds from it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optuna_hwprune.nasbench.constraints import Constraint, feasible_mask
from optuna_hwprune.nasbench.table import BenchTable, normalize_dataset

DEFAULT_ACCURACY = "test_accuracy"


def _front_of(indices: np.ndarray, cost: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    # Sweep by increasing cost (ties: higher accuracy first); a cell is on the front when it is
    # strictly more accurate than every cheaper one.
    order = indices[np.lexsort((-accuracy[indices], cost[indices]))]
    front = []
    best = -np.inf
    for index in order:
        if accuracy[index] > best:
            front.append(index)
            best = accuracy[index]
    return np.array(front, dtype=np.int64)


def pareto_front(
    table: BenchTable,
    dataset: str,
    metric: str,
    constraints: Sequence[Constraint] = (),
    accuracy: str = DEFAULT_ACCURACY,
) -> np.ndarray:
    """Return the feasible cells that no other feasible cell beats on both accuracy and ``metric``.

    Accuracy is maximised and ``metric`` minimised. Cells with a missing value are left out.

    Args:
        table: The benchmark table.
        dataset: Reference dataset.
        metric: Hardware or cost metric to minimise, e.g. ``"fpga_latency"``.
        constraints: Bounds every returned cell meets.
        accuracy: Accuracy metric to maximise.

    Returns:
        Cell indices ordered by increasing ``metric``.

    Raises:
        UnsatisfiableConstraintsError: If no cell meets ``constraints``.
    """
    return pareto_layers(table, dataset, metric, constraints, accuracy, max_cells=1)[0]


def pareto_layers(
    table: BenchTable,
    dataset: str,
    metric: str,
    constraints: Sequence[Constraint] = (),
    accuracy: str = DEFAULT_ACCURACY,
    max_cells: int = 1,
) -> list[np.ndarray]:
    """Return successive non-dominated layers until they hold at least ``max_cells`` cells."""
    dataset = normalize_dataset(dataset)
    cost = table.column(dataset, metric)
    score = table.column(dataset, accuracy)
    mask = feasible_mask(table, dataset, constraints) & ~np.isnan(cost) & ~np.isnan(score)
    remaining = np.flatnonzero(mask)

    layers: list[np.ndarray] = []
    collected = 0
    while len(remaining) and (not layers or collected < max_cells):
        front = _front_of(remaining, cost, score)
        layers.append(front)
        collected += len(front)
        remaining = np.setdiff1d(remaining, front, assume_unique=True)
    return layers


def select_diverse(
    table: BenchTable,
    dataset: str,
    metric: str,
    k: int,
    constraints: Sequence[Constraint] = (),
    accuracy: str = DEFAULT_ACCURACY,
) -> list[int]:
    """Choose ``k`` cells spread along the Pareto front (next layers fill in a short front).

    The most accurate front cell comes first. Each next cell is the candidate farthest from
    those chosen, in accuracy and ``metric`` both scaled to [0, 1] over the candidates, so the
    seeds cover the whole trade-off. Cells that compute the same function as a chosen one
    (same NAS-Bench-201 unique string) are skipped.

    Raises:
        ValueError: If ``k`` is not positive.
        UnsatisfiableConstraintsError: If no cell meets ``constraints``.
    """
    if k < 1:
        raise ValueError(f"number of seeds must be a positive integer, got {k}")
    dataset = normalize_dataset(dataset)
    layers = pareto_layers(table, dataset, metric, constraints, accuracy, max_cells=4 * k)
    candidates = np.concatenate(layers)
    layer_of = np.concatenate([np.full(len(layer), rank) for rank, layer in enumerate(layers)])

    points = np.stack([table.column(dataset, accuracy)[candidates], table.column(dataset, metric)[candidates]], axis=1)
    span = points.max(axis=0) - points.min(axis=0)
    points = (points - points.min(axis=0)) / np.where(span > 0, span, 1.0)
    unique = table.unique_ids

    chosen: list[int] = [int(np.argmax(np.where(layer_of == 0, points[:, 0], -np.inf)))]
    while len(chosen) < min(k, len(candidates)):
        distance = np.min(np.linalg.norm(points[:, None, :] - points[None, chosen, :], axis=2), axis=1)
        # Prefer earlier layers: a cell in layer r counts r units closer to the chosen ones.
        distance = distance - layer_of
        taken = {int(unique[candidates[position]]) for position in chosen}
        for position in range(len(candidates)):
            if position in chosen or int(unique[candidates[position]]) in taken:
                distance[position] = -np.inf
        if not np.isfinite(distance).any():
            break
        chosen.append(int(np.argmax(distance)))
    return [int(candidates[position]) for position in chosen]
