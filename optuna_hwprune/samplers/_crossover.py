"""Crossover of two parents given as unit coordinates (numeric) and choices (categorical).

Vectors of per-layer settings are correlated: a network that tolerates more sparsity in one
layer usually tolerates it in its neighbours too. Besides per-coordinate simulated binary
crossover (SBX), a *line* crossover therefore moves the whole numeric vector along the segment
between the two parents with one shared factor, which keeps the parents' layer profile shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sbx_crossover(
    first: np.ndarray, second: np.ndarray, rng: np.random.Generator, eta: float = 15.0
) -> np.ndarray:
    """Return one child of simulated binary crossover (Deb and Agrawal, 1995) in [0, 1].

    Each coordinate takes part with probability 0.5; the spread factor follows the usual
    polynomial distribution with index ``eta``.
    """
    child = first.copy()
    active = rng.random(len(first)) < 0.5
    u = rng.random(len(first))
    exponent = 1.0 / (eta + 1.0)
    beta = np.where(u <= 0.5, (2.0 * u) ** exponent, (0.5 / (1.0 - u)) ** exponent)
    sign = np.where(rng.random(len(first)) < 0.5, -1.0, 1.0)
    mean = 0.5 * (first + second)
    half_gap = 0.5 * np.abs(second - first)
    child[active] = (mean + sign * beta * half_gap)[active]
    return np.clip(child, 0.0, 1.0)


def line_crossover(
    first: np.ndarray, second: np.ndarray, rng: np.random.Generator, extension: float = 0.25
) -> np.ndarray:
    """Return ``first + alpha * (second - first)`` with one ``alpha`` for every coordinate.

    ``alpha`` is uniform in ``[-extension, 1 + extension]``, so the child may also extrapolate a
    little beyond either parent along the line that joins them.
    """
    alpha = rng.uniform(-extension, 1.0 + extension)
    return np.clip(first + alpha * (second - first), 0.0, 1.0)


def uniform_choice_crossover(
    first: list[Any], second: list[Any], rng: np.random.Generator
) -> list[Any]:
    """Take each categorical gene from either parent with probability 0.5."""
    take_second = rng.random(len(first)) < 0.5
    return [b if swap else a for a, b, swap in zip(first, second, take_second)]
