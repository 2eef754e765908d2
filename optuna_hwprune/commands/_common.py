"""Argument types and study checks shared by the ``hwprune`` sub-commands."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

# Study user attribute holding the options that define a study's search problem.
CONFIG_ATTR = "hwprune_config"


def positive_int(text: str) -> int:
    """Parse an integer of at least 1 (an ``argparse`` type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """Parse an integer of at least 0 (an ``argparse`` type)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def check_storage(url: str) -> None:
    """Open the Optuna storage at ``url`` once, so a bad URL fails before any training.

    Raises:
        ValueError: The storage cannot be opened; the message names the URL and the fix.
    """
    import optuna

    try:
        optuna.storages.get_storage(url)
    except Exception as error:  # SQLAlchemy and the journal backends raise many types here.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"cannot open --storage {url!r} ({reason}); pass an Optuna storage URL such as "
            "sqlite:///path/in/an/existing/folder.db"
        ) from error


def check_study_options(
    url: str, study_name: str, n_objectives: int, config: Mapping[str, Any]
) -> None:
    """Reject reusing an existing study with another number of objectives or other options.

    A study continued with other options would mix trials of two search problems in one
    Pareto front, so the options that define the problem are stored with the study
    (:data:`CONFIG_ATTR`) and compared on every rerun.

    Raises:
        ValueError: The study exists and differs; the message names the option and the fix.
    """
    import optuna

    try:
        study = optuna.load_study(study_name=study_name, storage=url)
    except KeyError:
        return
    if len(study.directions) != n_objectives:
        raise ValueError(
            f"study {study_name!r} in {url} has {len(study.directions)} objective(s), but this "
            f"command optimises {n_objectives}; pass another --study name"
        )
    stored = study.user_attrs.get(CONFIG_ATTR)
    if stored is None:
        return
    for key, value in config.items():
        if key in stored and stored[key] != value:
            raise ValueError(
                f"study {study_name!r} was created with {key}={stored[key]!r}, not {value!r}; "
                "rerun with the same options to continue it, or pass another --study name"
            )
