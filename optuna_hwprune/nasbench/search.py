"""Seed search end to end: describe the dataset, pick the reference, seed a study, optimise."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_hwprune.nasbench.constraints import Constraint, feasible_mask, parse_constraints
from optuna_hwprune.nasbench.objective import HYPERPARAMETERS, METRIC_NAME, OP_PARAMS, SeedSearchObjective
from optuna_hwprune.nasbench.seeds import Seed, enqueue_seeds, find_seeds
from optuna_hwprune.nasbench.similarity import closest_reference, describe_dataset
from optuna_hwprune.nasbench.table import HW_METRICS, BenchTable, load_table, normalize_dataset

if TYPE_CHECKING:
    import optuna

_logger = logging.getLogger(__name__)

SAMPLERS = ("auto", "nsga", "tpe", "random")
DEFAULT_METRIC = "fpga_latency"
# Sampled cells that violate the constraints are pruned without training, so they do not count
# towards the trial budget. This bounds the proposals per trained trial.
MAX_PROPOSALS_PER_TRIAL = 50


def create_sampler(name: str, seed: int | None, population_size: int = 4) -> optuna.samplers.BaseSampler:
    """Create the sampler for non-seed trials.

    The objective reports constraints through :meth:`optuna.trial.Trial.set_constraint`, which
    the NSGA and TPE samplers read from every finished trial (Optuna 5 deprecates TPE's
    ``constraints_func`` in favour of it). The random sampler ignores them.

    Args:
        name: ``"nsga"`` (:class:`~optuna_hwprune.samplers.LayerwiseNSGASampler`), ``"tpe"``
            (Optuna's TPE), ``"random"``, or ``"auto"`` (NSGA when available, TPE otherwise).
        seed: Sampler seed.
        population_size: NSGA population size (at least 4).

    Raises:
        ValueError: If ``name`` is unknown.
    """
    import optuna

    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; valid: {', '.join(SAMPLERS)}")
    if name in ("auto", "nsga"):
        try:
            from optuna_hwprune.samplers import LayerwiseNSGASampler
        except ImportError:
            if name == "nsga":
                raise
        else:
            return LayerwiseNSGASampler(population_size=max(4, population_size), seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _run_trials(
    study: optuna.Study,
    objective: Callable[[optuna.trial.Trial], float],
    n_trials: int,
    callbacks: Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]],
) -> None:
    from optuna.trial import TrialState

    completed = 0

    def stop_after_budget(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        nonlocal completed
        if trial.state == TrialState.COMPLETE:
            completed += 1
        if completed >= n_trials:
            study.stop()

    study.optimize(
        objective,
        n_trials=n_trials * MAX_PROPOSALS_PER_TRIAL,
        callbacks=[stop_after_budget, *callbacks],
        catch=(),
    )
    if completed < n_trials:
        _logger.warning(
            "only %d of %d trials trained: the sampler proposed %d infeasible cells; relax the "
            "constraints or use fewer trials",
            completed,
            n_trials,
            n_trials * MAX_PROPOSALS_PER_TRIAL - completed,
        )


def trial_summary(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """Return one trial as a JSON-ready dict: params, accuracies, cost and bench metrics."""
    attrs = trial.user_attrs
    return {
        "number": trial.number,
        "state": trial.state.name,
        "seed": attrs.get("source") == "seed",
        "feasible": attrs.get("feasible"),
        "constraints": dict(trial.constraints),
        "index": attrs.get("index"),
        "arch": attrs.get("arch"),
        "params": dict(trial.params),
        "val_accuracy": trial.value if trial.values is not None else None,
        "test_accuracy": attrs.get("test_accuracy"),
        "num_parameters": attrs.get("params"),
        "macs": attrs.get("macs"),
        "train_seconds": attrs.get("train_seconds"),
        "bench": {key[len("bench_") :]: value for key, value in attrs.items() if key.startswith("bench_")},
    }


def best_feasible_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """Return the completed feasible trial with the highest validation accuracy, if any."""
    from optuna.trial import TrialState

    trials = [
        trial
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if trial.user_attrs.get("feasible")
    ]
    return max(trials, key=lambda trial: trial.value) if trials else None


def run_seed_search(
    dataset: str = "pathmnist",
    *,
    data_root: str | Path | None = None,
    constraints: Sequence[str | Constraint] = (),
    metric: str | None = None,
    n_seeds: int = 4,
    n_trials: int = 8,
    max_epochs: int = 3,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str = "seed-search",
    seed: int = 0,
    device: str = "auto",
    sampler: str = "auto",
    reference: str | None = None,
    warm_start: bool = True,
    download: bool = True,
    train_subset: int | None = None,
    table: BenchTable | None = None,
    callbacks: Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] = (),
    num_threads: int | None = 1,
) -> tuple[optuna.Study, dict[str, Any]]:
    """Warm-start an Optuna study from HW-NAS-Bench and tune a cell network on ``dataset``.

    Args:
        dataset: ``cifar10`` or a 2D MedMNIST flag.
        data_root: Folder holding the dataset (see :func:`optuna_hwprune.datasets.load_dataset`).
        constraints: Bounds such as ``"fpga_latency<=2.5"`` on the reference dataset's metrics.
        metric: Hardware metric of the Pareto front; the first constrained hardware metric, else
            ``fpga_latency``.
        n_seeds: Number of Pareto-optimal cells to enqueue.
        n_trials: Number of trained trials in this run, seeds included.
        max_epochs: Upper bound of the ``epochs`` parameter.
        storage: Optuna storage URL or storage object; in memory when None.
        study_name: Study name; an existing study is continued.
        seed: Seed of the sampler, the data subset and the training.
        device: ``auto``, ``cpu`` or ``cuda``.
        sampler: See :func:`create_sampler`.
        reference: Reference dataset; chosen by similarity when None.
        warm_start: Enqueue the seeds; False runs the sampler cold (for comparisons).
        download: Download the dataset when missing from ``data_root``.
        train_subset: Train on a stratified subset of this many images.
        table: Benchmark table; the bundled one by default.
        callbacks: Extra Optuna callbacks, called after every trial.
        num_threads: Intra-op CPU threads while a trial trains (see
            :class:`~optuna_hwprune.nasbench.objective.SeedSearchObjective`).

    Returns:
        The study and a JSON-ready summary (similarity scores, seeds, trials, best trial).
    """
    import optuna

    from optuna_hwprune.datasets import load_dataset

    if n_seeds < 0 or n_trials < 1:
        raise ValueError(f"need n_seeds >= 0 and n_trials >= 1, got {n_seeds} and {n_trials}")
    table = table if table is not None else load_table()
    splits = {split: load_dataset(dataset, data_root, split, download) for split in ("train", "val", "test")}
    train = splits["train"].subset(train_subset, seed=seed)

    descriptor = describe_dataset(splits["train"], seed=seed)
    chosen, scores = closest_reference(descriptor)
    reference = normalize_dataset(reference) if reference is not None else chosen
    _logger.info("reference dataset %s (similarity %s)", reference, _format_scores(scores))

    parsed = parse_constraints(constraints, table, reference)
    feasible = feasible_mask(table, reference, parsed)
    metric = metric or next((c.metric for c in parsed if c.metric in HW_METRICS), DEFAULT_METRIC)
    seeds: list[Seed] = find_seeds(reference, metric, n_seeds, parsed, table) if n_seeds else []

    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction="maximize",
        sampler=create_sampler(sampler, seed, population_size=max(n_seeds, 4)),
        load_if_exists=True,
    )
    with warnings.catch_warnings():
        # Optuna marks set_metric_names experimental. The dashboard reads the names it stores.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([METRIC_NAME])
    study.set_user_attr("dataset", dataset)
    study.set_user_attr("reference", reference)
    study.set_user_attr("constraints", [str(c) for c in parsed])
    if warm_start:
        enqueue_seeds(study, seeds, max_epochs=max_epochs)

    objective = SeedSearchObjective(
        train,
        splits["val"],
        splits["test"],
        reference,
        parsed,
        max_epochs=max_epochs,
        device=device,
        seed=seed,
        table=table,
        num_threads=num_threads,
    )
    _run_trials(study, objective, n_trials, callbacks)

    best = best_feasible_trial(study)
    summary = {
        "dataset": dataset,
        "descriptor": descriptor.to_dict(),
        "reference": reference,
        "similarity": scores,
        "constraints": [str(c) for c in parsed],
        "feasible_cells": int(feasible.sum()),
        "metric": metric,
        "warm_start": warm_start,
        "seeds": [s.to_dict() for s in seeds],
        "trials": [trial_summary(trial) for trial in study.trials],
        "best_trial": trial_summary(best) if best is not None else None,
        "study_name": study.study_name,
        "storage": storage if storage is None or isinstance(storage, str) else type(storage).__name__,
        "search_space": list(OP_PARAMS) + list(HYPERPARAMETERS),
    }
    return study, summary


def _format_scores(scores: dict[str, float]) -> str:
    return ", ".join(f"{name} {score:.3f}" for name, score in scores.items())

