"""Mapping between parameter values and unit coordinates, one distribution at a time.

Numeric parameters (float, int, with or without step or log scale) are encoded as a position in
``[0, 1]`` of their range, on the log scale where the distribution is logarithmic. Decoding a
position into a *different* range of the same parameter keeps its relative place, which is how a
child stays inside a range that depends on another parameter. Categorical parameters are kept as
their choice objects and matched by type as well as value, so ``1``, ``1.0`` and ``True`` stay
distinct choices.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution


def is_numeric(distribution: BaseDistribution) -> bool:
    return isinstance(distribution, (FloatDistribution, IntDistribution))


def is_discrete(distribution: BaseDistribution) -> bool:
    if isinstance(distribution, FloatDistribution):
        return distribution.step is not None
    return isinstance(distribution, (IntDistribution, CategoricalDistribution))


def count_values(distribution: BaseDistribution) -> int:
    """Return the number of values of a discrete distribution."""
    if isinstance(distribution, CategoricalDistribution):
        return len(distribution.choices)
    if isinstance(distribution, IntDistribution):
        return (distribution.high - distribution.low) // distribution.step + 1
    if isinstance(distribution, FloatDistribution) and distribution.step is not None:
        return int(round((distribution.high - distribution.low) / distribution.step)) + 1
    raise ValueError(f"{distribution} is continuous and has no finite number of values.")


def _bounds(distribution: FloatDistribution | IntDistribution) -> tuple[float, float]:
    if distribution.log:
        return math.log(distribution.low), math.log(distribution.high)
    return float(distribution.low), float(distribution.high)


def encode(value: Any, distribution: FloatDistribution | IntDistribution) -> float:
    """Return the unit coordinate of a numeric value inside its distribution."""
    low, high = _bounds(distribution)
    if high <= low:
        return 0.5
    position = math.log(value) if distribution.log else float(value)
    return min(1.0, max(0.0, (position - low) / (high - low)))


def decode(unit: float, distribution: FloatDistribution | IntDistribution) -> float | int:
    """Return the value of ``distribution`` at unit coordinate ``unit`` (clipped to [0, 1])."""
    unit = min(1.0, max(0.0, float(unit)))
    low, high = _bounds(distribution)
    position = low + unit * (high - low)
    value = math.exp(position) if distribution.log else position

    if isinstance(distribution, IntDistribution):
        steps = round((value - distribution.low) / distribution.step)
        integer = distribution.low + int(steps) * distribution.step
        return int(min(distribution.high, max(distribution.low, integer)))

    if distribution.step is not None:
        steps = round((value - distribution.low) / distribution.step)
        value = distribution.low + steps * distribution.step
    return float(min(distribution.high, max(distribution.low, value)))


def choice_index(value: Any, distribution: CategoricalDistribution) -> int | None:
    """Return the index of ``value`` among the choices, matching type and value, or None."""
    for index, choice in enumerate(distribution.choices):
        if choice is value:
            return index
    for index, choice in enumerate(distribution.choices):
        if type(choice) is not type(value):
            continue
        if choice == value:
            return index
        if isinstance(choice, float) and math.isnan(choice) and math.isnan(value):
            return index
    return None


def internal_value(value: Any, distribution: BaseDistribution) -> float:
    """Return a hashable float that identifies ``value`` inside ``distribution``."""
    if isinstance(distribution, CategoricalDistribution):
        index = choice_index(value, distribution)
        return float(index) if index is not None else float("nan")
    return float(value)


def value_at_index(index: int, distribution: BaseDistribution) -> Any:
    """Return the ``index``-th value of a discrete distribution, in increasing order."""
    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices[index]
    if isinstance(distribution, IntDistribution):
        return distribution.low + index * distribution.step
    if isinstance(distribution, FloatDistribution) and distribution.step is not None:
        return float(min(distribution.high, distribution.low + index * distribution.step))
    raise ValueError(f"{distribution} is continuous and has no indexed values.")


def sample_uniform(distribution: BaseDistribution, rng: np.random.Generator) -> Any:
    """Draw one value of ``distribution`` uniformly (in log space for log distributions)."""
    if isinstance(distribution, (FloatDistribution, IntDistribution)):
        if distribution.log or not is_discrete(distribution):
            return decode(float(rng.random()), distribution)
    return value_at_index(int(rng.integers(count_values(distribution))), distribution)
