"""Non-dominated sorting with constrained domination, crowding distance and elite selection.

A trial is feasible when every constraint value is zero or less. A NaN value, or a constraint
key that other trials of the same population report but this trial lacks, makes it infeasible
with an infinite violation, so a broken constraint evaluation can never win. Feasible trials
are sorted into fronts by Pareto dominance. Infeasible trials come after every feasible one,
ordered by total violation, which is the constrained domination of NSGA-II (Deb et al., IEEE
Trans. Evolutionary Computation 6(2), 2002).
"""

from __future__ import annotations

from collections.abc import Sequence
import math

import numpy as np
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial


def constraint_violations(trials: Sequence[FrozenTrial], constrained: bool) -> np.ndarray:
    """Return each trial's total constraint violation (0.0 when feasible).

    Args:
        trials: Completed trials of one population.
        constrained: Whether the study uses constraints at all. When it does, a trial without
            any constraint value is infeasible.

    Returns:
        Array of shape ``(len(trials),)`` with the sum of positive constraint values, ``inf``
        for a NaN or missing value.
    """
    violations = np.zeros(len(trials))
    if not constrained:
        return violations

    keys: set[str] = set()
    for trial in trials:
        keys.update(trial.constraints)

    for i, trial in enumerate(trials):
        constraints = trial.constraints
        if not constraints or any(key not in constraints for key in keys):
            violations[i] = math.inf
            continue
        total = 0.0
        for value in constraints.values():
            if value is None or math.isnan(value):
                total = math.inf
                break
            total += max(0.0, value)
        violations[i] = total
    return violations


def loss_matrix(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection]) -> np.ndarray:
    """Return the objective values of ``trials`` as minimisation losses."""
    signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in directions])
    values = np.array([trial.values for trial in trials], dtype=float).reshape(-1, len(signs))
    return values * signs


def non_dominated_ranks(losses: np.ndarray, violations: np.ndarray) -> np.ndarray:
    """Assign each row its front number (0 is the best front) under constrained domination.

    Args:
        losses: Shape ``(n, n_objectives)``, lower is better.
        violations: Shape ``(n,)``; rows with a positive violation are infeasible.

    Returns:
        Integer array of shape ``(n,)``.
    """
    n = len(losses)
    ranks = np.zeros(n, dtype=int)
    feasible = violations <= 0.0
    feasible_indices = np.flatnonzero(feasible)

    next_rank = 0
    if len(feasible_indices) > 0:
        points = losses[feasible_indices]
        no_worse = np.all(points[:, None, :] <= points[None, :, :], axis=2)
        better = np.any(points[:, None, :] < points[None, :, :], axis=2)
        dominates = no_worse & better
        domination_count = dominates.sum(axis=0)
        remaining = np.ones(len(points), dtype=bool)
        while remaining.any():
            front = remaining & (domination_count == 0)
            ranks[feasible_indices[front]] = next_rank
            remaining &= ~front
            domination_count = domination_count - dominates[front].sum(axis=0)
            next_rank += 1

    infeasible_indices = np.flatnonzero(~feasible)
    if len(infeasible_indices) > 0:
        levels = np.unique(violations[infeasible_indices], return_inverse=True)[1]
        ranks[infeasible_indices] = next_rank + levels.reshape(-1)
    return ranks


def crowding_distances(losses: np.ndarray) -> np.ndarray:
    """Return the crowding distance of each row within its own set of points.

    The extreme points of every objective get ``inf``. Every other point gets the sum over
    objectives of the gap between its two neighbours, divided by that objective's finite range.
    """
    n, n_objectives = losses.shape
    distances = np.zeros(n)
    if n <= 2:
        distances[:] = math.inf
        return distances

    for k in range(n_objectives):
        column = losses[:, k]
        order = np.argsort(column, kind="stable")
        finite = column[np.isfinite(column)]
        width = finite.max() - finite.min() if len(finite) > 0 else 0.0
        if width <= 0.0:
            continue
        distances[order[0]] = math.inf
        distances[order[-1]] = math.inf
        sorted_values = column[order]
        with np.errstate(invalid="ignore"):
            gaps = sorted_values[2:] - sorted_values[:-2]
        gaps = np.nan_to_num(gaps, nan=0.0, posinf=math.inf)
        distances[order[1:-1]] += gaps / width
    return distances


def rank_and_crowding(
    trials: Sequence[FrozenTrial],
    directions: Sequence[StudyDirection],
    constrained: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (ranks, crowding distances within each front, violations) of ``trials``."""
    losses = loss_matrix(trials, directions)
    violations = constraint_violations(trials, constrained)
    ranks = non_dominated_ranks(losses, violations)
    crowding = np.zeros(len(trials))
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        crowding[members] = crowding_distances(losses[members])
    return ranks, crowding, violations


def select_elite(
    trials: Sequence[FrozenTrial],
    directions: Sequence[StudyDirection],
    size: int,
    constrained: bool,
) -> list[FrozenTrial]:
    """Keep the best ``size`` trials: whole fronts first, the last front cut by crowding.

    Args:
        trials: Completed trials to select from.
        directions: Study directions.
        size: Number of trials to keep.
        constrained: Whether the study uses constraints.

    Returns:
        At most ``size`` trials, best front first.
    """
    if len(trials) <= size:
        return list(trials)

    ranks, crowding, _ = rank_and_crowding(trials, directions, constrained)
    # Sort by front, then by decreasing crowding distance, then by trial number for a
    # deterministic result in every worker process.
    numbers = np.array([trial.number for trial in trials])
    order = np.lexsort((numbers, -crowding, ranks))
    return [trials[i] for i in order[:size]]
