from __future__ import annotations

import math

import numpy as np
import pytest

from optuna_hwprune.indicators import hypervolume
from optuna_hwprune.indicators import inverted_generational_distance
from optuna_hwprune.indicators import pareto_front_mask


def test_hypervolume_2d_staircase() -> None:
    points = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [2.5, 2.5]])
    # Three rectangles of the staircase against (4, 4): 3*1 + 2*1 + 1*1 = 6.
    assert hypervolume(points, np.array([4.0, 4.0])) == pytest.approx(6.0)


def test_hypervolume_ignores_points_outside_reference() -> None:
    points = np.array([[1.0, 1.0], [5.0, 0.0], [0.0, 4.0]])
    assert hypervolume(points, np.array([4.0, 4.0])) == pytest.approx(9.0)
    assert hypervolume(np.empty((0, 2)), np.array([1.0, 1.0])) == 0.0


def test_hypervolume_3d_matches_inclusion_exclusion() -> None:
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([2.0, 1.0, 2.0])
    reference = np.array([4.0, 4.0, 4.0])
    overlap = reference - np.maximum(a, b)
    expected = np.prod(reference - a) + np.prod(reference - b) - np.prod(overlap)
    assert hypervolume(np.stack([a, b]), reference) == pytest.approx(expected)


def test_hypervolume_3d_matches_monte_carlo() -> None:
    rng = np.random.default_rng(0)
    points = rng.random((30, 3))
    reference = np.ones(3)
    samples = rng.random((200_000, 3))
    dominated = np.zeros(len(samples), dtype=bool)
    for point in points:
        dominated |= np.all(samples >= point, axis=1)
    assert hypervolume(points, reference) == pytest.approx(dominated.mean(), abs=0.01)


def test_hypervolume_of_dtlz2_front_approaches_analytic_value() -> None:
    grid = np.linspace(0.0, math.pi / 2, 40)
    a, b = np.meshgrid(grid, grid)
    front = np.stack(
        [np.cos(a) * np.cos(b), np.cos(a) * np.sin(b), np.sin(a)], axis=-1
    ).reshape(-1, 3)
    volume = hypervolume(front, np.full(3, 1.5))
    assert volume < 1.5**3 - math.pi / 6
    assert volume == pytest.approx(1.5**3 - math.pi / 6, rel=0.03)


def test_hypervolume_rejects_non_finite_reference() -> None:
    with pytest.raises(ValueError, match="reference_point"):
        hypervolume(np.zeros((1, 2)), np.array([1.0, np.inf]))


def test_pareto_front_mask() -> None:
    points = np.array([[1.0, 2.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0]])
    assert pareto_front_mask(points).tolist() == [True, True, False, True]


def test_igd() -> None:
    front = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert inverted_generational_distance(front, front) == 0.0
    assert inverted_generational_distance(np.array([[0.0, 0.0]]), front) == pytest.approx(1.0)
    assert inverted_generational_distance(np.empty((0, 2)), front) == math.inf


def test_hypervolume_4d_matches_inclusion_exclusion() -> None:
    a = np.array([1.0, 2.0, 3.0, 1.0])
    b = np.array([2.0, 1.0, 2.0, 2.0])
    c = np.array([3.0, 3.0, 3.0, 3.0])  # dominated by a
    reference = np.full(4, 4.0)
    overlap = reference - np.maximum(a, b)
    expected = np.prod(reference - a) + np.prod(reference - b) - np.prod(overlap)
    assert hypervolume(np.stack([a, b, c]), reference) == pytest.approx(expected)
