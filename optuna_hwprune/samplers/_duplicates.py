"""Register of the parameter points that finished and running trials already use."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial

from optuna_hwprune.samplers._encoding import internal_value

PointKey = tuple[tuple[str, float], ...]


def point_key(
    params: Mapping[str, Any], distributions: Mapping[str, BaseDistribution]
) -> PointKey:
    """Return a hashable key of a parameter point (categoricals by choice index)."""
    items = [(name, internal_value(value, distributions[name])) for name, value in params.items()]
    return tuple(sorted(items))


class SeenPoints:
    """Incrementally collected keys of every trial's parameters, for one study at a time.

    Finished trials are read once; running and waiting trials are reread on each update because
    their parameters are still being suggested.
    """

    def __init__(self) -> None:
        self._study_key: tuple[int, int] | None = None
        self._finished: set[PointKey] = set()
        self._unfinished_numbers: list[int] = []
        self._next_number = 0

    def update(
        self, study_key: tuple[int, int], trials: Sequence[FrozenTrial], exclude_number: int
    ) -> tuple[set[PointKey], set[PointKey]]:
        """Return the keys of finished and of unfinished trials, except ``exclude_number``.

        ``study_key`` identifies the study across storages; a new key resets the register.

        The first set is the register's own storage: read it, do not modify it.
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
            trial = trials[number]
            if number != exclude_number and trial.params:
                running.add(point_key(trial.params, trial.distributions))
        return self._finished, running
