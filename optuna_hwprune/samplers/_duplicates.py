"""Register of the parameter points that finished and running trials already use."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import math
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.trial import FrozenTrial

from optuna_hwprune.samplers._encoding import choice_index
from optuna_hwprune.samplers._encoding import count_values
from optuna_hwprune.samplers._encoding import decode
from optuna_hwprune.samplers._encoding import encode
from optuna_hwprune.samplers._encoding import internal_value
from optuna_hwprune.samplers._encoding import is_discrete
from optuna_hwprune.samplers._encoding import value_at_index
from optuna_hwprune.samplers._mutation import polynomial_delta

PointKey = tuple[tuple[str, float], ...]

# Plan entries of the sampler: (True, unit coordinate) or (False, choice object) per name.
Entries = dict[str, tuple[bool, Any]]

# Optuna (5.1) keeps the parameters of an enqueued trial in this trial system attribute until
# the objective suggests them.
_FIXED_PARAMS_KEY = "fixed_params"

# A child that copies a parent goes through the unit-coordinate encoding, which can change the
# last bits of a continuous float, so keys compare continuous floats at this precision.
_SIGNIFICANT_DIGITS = 12


def point_key(
    params: Mapping[str, Any], distributions: Mapping[str, BaseDistribution]
) -> PointKey:
    """Return a hashable key of a parameter point.

    Categorical values count by choice index, and continuous floats are rounded to 12
    significant digits.
    """
    items = []
    for name, value in params.items():
        distribution = distributions[name]
        key_value = internal_value(value, distribution)
        if isinstance(distribution, FloatDistribution) and distribution.step is None:
            key_value = float(f"{key_value:.{_SIGNIFICANT_DIGITS}g}")
        items.append((name, key_value))
    return tuple(sorted(items))


def space_size(distributions: Mapping[str, BaseDistribution]) -> int | None:
    """Return the number of points of a discrete space, or None if a parameter is continuous."""
    if not all(is_discrete(d) for d in distributions.values()):
        return None
    return math.prod(count_values(d) for d in distributions.values())


def _has_one_value(distribution: BaseDistribution) -> bool:
    if is_discrete(distribution):
        return count_values(distribution) < 2
    return distribution.low == distribution.high  # type: ignore[attr-defined]


def vary_one_parameter(
    entries: Entries, distributions: Mapping[str, BaseDistribution], rng: np.random.Generator
) -> Entries:
    """Return a copy of ``entries`` where one parameter, chosen at random, takes another value.

    A categorical parameter takes another choice, a discrete numeric one moves one step up or
    down, and a continuous one moves by a polynomial mutation (index 20) reflected at the
    bounds. Parameters with a single value are never chosen, so the copy equals ``entries``
    when every parameter has one value. A missing entry counts as a uniform draw.
    """
    names = [name for name in sorted(distributions) if not _has_one_value(distributions[name])]
    if not names:
        return dict(entries)

    name = names[int(rng.integers(len(names)))]
    distribution = distributions[name]
    entry = entries.get(name)
    varied = dict(entries)

    if isinstance(distribution, CategoricalDistribution):
        current = None
        if entry is not None and not entry[0]:
            current = choice_index(entry[1], distribution)
        others = [i for i in range(len(distribution.choices)) if i != current]
        varied[name] = (False, distribution.choices[others[int(rng.integers(len(others)))]])
        return varied

    unit = float(entry[1]) if entry is not None and entry[0] else float(rng.random())
    if is_discrete(distribution):
        n_values = count_values(distribution)
        low = distribution.low  # type: ignore[attr-defined]
        step = getattr(distribution, "step", None) or 1
        index = int(round((decode(unit, distribution) - low) / step))  # type: ignore[arg-type]
        if index == 0:
            index = 1
        elif index >= n_values - 1:
            index = n_values - 2
        else:
            index += 1 if rng.random() < 0.5 else -1
        value = value_at_index(index, distribution)
        varied[name] = (True, encode(value, distribution))  # type: ignore[arg-type]
        return varied

    delta = float(polynomial_delta(np.array(rng.random())))
    if not 0.0 <= unit + delta <= 1.0:
        delta = -delta
    varied[name] = (True, min(1.0, max(0.0, unit + delta)))
    return varied


class SeenPoints:
    """Incrementally collected keys of every trial's parameters, for one study at a time.

    Finished trials are read once. Running and waiting trials are reread on each update because
    their parameters are still being suggested. For those, the key is the point that the
    sampler published in the system attribute ``point_attr`` when planning the trial, or else
    the parameters suggested or enqueued so far.
    """

    def __init__(self, point_attr: str) -> None:
        self._point_attr = point_attr
        self._study_key: tuple[int, int] | None = None
        self._finished: set[PointKey] = set()
        self._unfinished_numbers: list[int] = []
        self._next_number = 0

    def update(
        self,
        study_key: tuple[int, int],
        trials: Sequence[FrozenTrial],
        exclude_number: int,
        distributions: Mapping[str, BaseDistribution],
    ) -> tuple[set[PointKey], set[PointKey]]:
        """Return the keys of finished and of unfinished trials, except ``exclude_number``.

        Args:
            study_key: Identity of the study across storages; a new key resets the register.
            trials: Every trial of the study, ordered by number.
            exclude_number: Number of the trial being planned.
            distributions: Distributions for enqueued parameters that a trial has not
                suggested yet.

        Returns:
            The finished keys (the register's own set: read it, do not modify it) and the keys
            of running and waiting trials.
        """
        if self._study_key != study_key or len(trials) < self._next_number:
            self._study_key = study_key
            self._finished = set()
            self._unfinished_numbers = []
            self._next_number = 0

        unfinished: list[int] = []
        for number in [*self._unfinished_numbers, *range(self._next_number, len(trials))]:
            trial = trials[number]
            if trial.state.is_finished():
                if trial.params:
                    self._finished.add(point_key(trial.params, trial.distributions))
            else:
                unfinished.append(number)
        self._unfinished_numbers = unfinished
        self._next_number = len(trials)

        running: set[PointKey] = set()
        for number in unfinished:
            if number != exclude_number:
                key = self._unfinished_key(trials[number], distributions)
                if key is not None:
                    running.add(key)
        return self._finished, running

    def _unfinished_key(
        self, trial: FrozenTrial, distributions: Mapping[str, BaseDistribution]
    ) -> PointKey | None:
        published = trial.system_attrs.get(self._point_attr)
        if published is not None:
            return tuple((str(name), float(value)) for name, value in published)

        params = {**trial.system_attrs.get(_FIXED_PARAMS_KEY, {}), **trial.params}
        known = {**distributions, **trial.distributions}
        if not params or any(name not in known for name in params):
            return None
        return point_key(params, known)
