"""JSON-ready records of a pruning study's trials and Pareto front."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from optuna_hwprune.pruning._objective import PARAM_PREFIX


def trial_record(trial: FrozenTrial) -> dict[str, Any]:
    """Describe one finished trial: values, per-layer sparsities and user attributes."""
    record: dict[str, Any] = {"number": trial.number, "state": trial.state.name}
    if trial.values is not None:
        record["accuracy"], record["speedup"] = trial.values
    record["sparsity"] = {
        name[len(PARAM_PREFIX) :]: value
        for name, value in trial.params.items()
        if name.startswith(PARAM_PREFIX)
    }
    record.update(trial.user_attrs)
    if trial.datetime_start is not None and trial.datetime_complete is not None:
        record["duration_s"] = round((trial.datetime_complete - trial.datetime_start).total_seconds(), 2)
    return record


def study_records(study: optuna.Study) -> dict[str, list[dict[str, Any]]]:
    """Return the completed trials, the failed trials and the Pareto front of ``study``.

    Returns:
        ``{"trials": [...], "failed_trials": [...], "pareto_front": [...]}``; the front is
        sorted by estimated speedup.
    """
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    front = sorted(study.best_trials, key=lambda trial: trial.values[1]) if completed else []
    return {
        "trials": [trial_record(trial) for trial in completed],
        "failed_trials": [trial_record(trial) for trial in failed],
        "pareto_front": [trial_record(trial) for trial in front],
    }
