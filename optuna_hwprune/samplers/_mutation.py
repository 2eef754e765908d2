"""Mutation of unit coordinates and categorical genes.

``shift_mutation`` is the layer-vector move: it adds one Gaussian offset to every numeric
coordinate, so a whole sparsity profile becomes uniformly denser or sparser, which walks along
an accuracy-speed front far faster than independent per-layer changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def polynomial_delta(u: np.ndarray, eta: float = 20.0) -> np.ndarray:
    """Return the offsets of Deb's polynomial mutation for uniform draws ``u`` in [0, 1)."""
    return np.where(
        u < 0.5,
        (2.0 * u) ** (1.0 / (eta + 1.0)) - 1.0,
        1.0 - (2.0 * (1.0 - u)) ** (1.0 / (eta + 1.0)),
    )


def polynomial_mutation(
    units: np.ndarray, probability: float, rng: np.random.Generator, eta: float = 20.0
) -> np.ndarray:
    """Perturb each coordinate with ``probability`` by Deb's polynomial mutation in [0, 1]."""
    mutated = units.copy()
    active = rng.random(len(units)) < probability
    delta = polynomial_delta(rng.random(len(units)), eta)
    mutated[active] = mutated[active] + delta[active]
    return np.clip(mutated, 0.0, 1.0)


def shift_mutation(units: np.ndarray, rng: np.random.Generator, scale: float = 0.1) -> np.ndarray:
    """Add one offset drawn from ``N(0, scale**2)`` to every coordinate, then clip to [0, 1]."""
    return np.clip(units + rng.normal(0.0, scale), 0.0, 1.0)


def choice_mutation(
    genes: list[Any],
    choices: Sequence[Sequence[Any]],
    probability: float,
    rng: np.random.Generator,
) -> list[Any]:
    """Replace each gene with ``probability`` by a different choice of the same parameter."""
    mutated = list(genes)
    for i, options in enumerate(choices):
        if len(options) < 2 or rng.random() >= probability:
            continue
        others = [option for option in options if option is not genes[i]]
        mutated[i] = others[int(rng.integers(len(others)))]
    return mutated
