from __future__ import annotations

import math

import numpy as np
import optuna
from optuna.distributions import FloatDistribution
from optuna.study import StudyDirection
from optuna.trial import TrialState

from optuna_hwprune.samplers._ranking import constraint_violations
from optuna_hwprune.samplers._ranking import crowding_distances
from optuna_hwprune.samplers._ranking import non_dominated_ranks
from optuna_hwprune.samplers._ranking import select_elite


def _trial(number: int, values: list[float], constraints: dict[str, float] | None = None):
    trial = optuna.trial.create_trial(
        state=TrialState.COMPLETE,
        values=values,
        params={"x": 0.5},
        distributions={"x": FloatDistribution(0.0, 1.0)},
        system_attrs={f"constraints:{k}": v for k, v in (constraints or {}).items()},
    )
    trial.number = number
    return trial


def test_non_dominated_ranks_two_fronts() -> None:
    losses = np.array([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0], [3.0, 3.0], [5.0, 5.0]])
    ranks = non_dominated_ranks(losses, np.zeros(5))
    assert ranks.tolist() == [0, 0, 0, 1, 2]


def test_infeasible_ranked_after_feasible_by_violation() -> None:
    losses = np.array([[0.0, 0.0], [9.0, 9.0], [1.0, 1.0], [0.5, 0.5]])
    violations = np.array([2.0, 0.0, 1.0, math.inf])
    ranks = non_dominated_ranks(losses, violations)
    assert ranks[1] == 0
    assert ranks[2] < ranks[0] < ranks[3]


def test_nan_constraint_is_infeasible() -> None:
    trials = [_trial(0, [1.0], {"c": -1.0}), _trial(1, [0.0], {"c": float("nan")})]
    violations = constraint_violations(trials, constrained=True)
    assert violations[0] == 0.0
    assert violations[1] == math.inf


def test_missing_constraint_is_infeasible() -> None:
    trials = [
        _trial(0, [1.0], {"a": -1.0, "b": -1.0}),
        _trial(1, [0.0], {"a": -1.0}),
        _trial(2, [0.0]),
    ]
    violations = constraint_violations(trials, constrained=True)
    assert violations.tolist() == [0.0, math.inf, math.inf]


def test_unconstrained_study_has_no_violations() -> None:
    trials = [_trial(0, [1.0]), _trial(1, [2.0])]
    assert constraint_violations(trials, constrained=False).tolist() == [0.0, 0.0]


def test_crowding_marks_extremes_infinite() -> None:
    losses = np.array([[0.0, 4.0], [1.0, 2.0], [2.0, 1.5], [4.0, 0.0]])
    distances = crowding_distances(losses)
    assert distances[0] == math.inf
    assert distances[3] == math.inf
    assert 0.0 < distances[1] < math.inf
    assert 0.0 < distances[2] < math.inf


def test_select_elite_prefers_feasible_front() -> None:
    directions = [StudyDirection.MINIMIZE, StudyDirection.MINIMIZE]
    trials = [
        _trial(0, [0.0, 0.0], {"c": 1.0}),
        _trial(1, [1.0, 3.0], {"c": 0.0}),
        _trial(2, [3.0, 1.0], {"c": -2.0}),
        _trial(3, [4.0, 4.0], {"c": 0.0}),
        _trial(4, [0.0, 0.0], {"c": float("nan")}),
    ]
    elite = select_elite(trials, directions, size=3, constrained=True)
    assert [t.number for t in elite] == [1, 2, 3]
