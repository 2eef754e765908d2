"""Several worker processes on one study, and a study reopened with load_if_exists."""

from __future__ import annotations

from collections.abc import Callable
import logging
from pathlib import Path
import re
import subprocess
import sys
from typing import Any

import optuna
from optuna.storages import JournalStorage
from optuna.storages import RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
import pytest

from optuna_hwprune.samplers import LayerwiseNSGASampler

_GENERATION_KEY = "LayerwiseNSGASampler:generation"
_PARENT_PREFIX = "LayerwiseNSGASampler:parent:"
_POINT_KEY = "LayerwiseNSGASampler:point"
_REPEAT_WARNING = re.compile(r"Trial (\d+) repeats the parameters of another trial")
_OPS = ("skip", "none", "conv3", "conv1", "pool")
_N_EDGES = 6

# Each worker opens the study by name and runs its share of trials. Every worker uses the
# same seed on purpose: the sampler must still give each trial its own point.
_WORKER = r"""
import sys, time
import optuna
from optuna.storages import JournalStorage
from optuna.storages import RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna_hwprune.samplers import LayerwiseNSGASampler

storage_spec, study_name, n_trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
if storage_spec.startswith("journal:"):
    storage = JournalStorage(JournalFileBackend(storage_spec[len("journal:"):]))
else:
    storage = storage_spec
optuna.logging.set_verbosity(optuna.logging.WARNING)
sampler = LayerwiseNSGASampler(seed=0)
study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)

def objective(trial):
    ops = [trial.suggest_categorical(f"edge{i}", OPS) for i in range(N_EDGES)]
    # Stands for training time, so trials of different workers overlap. No check depends on it.
    time.sleep(0.01)
    # Every point is Pareto-optimal (the study maximises and minimises the same code), so
    # the population stays spread over the space instead of converging on a few points.
    code = sum(OPS.index(op) * len(OPS) ** i for i, op in enumerate(ops))
    return float(code), float(code)

study.optimize(objective, n_trials=n_trials)
"""


def _objective(trial: optuna.Trial) -> tuple[float, float]:
    ops = [trial.suggest_categorical(f"edge{i}", _OPS) for i in range(_N_EDGES)]
    return float(sum(op.startswith("conv") for op in ops)), float(sum(op == "none" for op in ops))


def _worker_source() -> str:
    return f"OPS = {_OPS!r}\nN_EDGES = {_N_EDGES}\n" + _WORKER


def _run_workers(storage_spec: str, study_name: str, n_workers: int, n_trials: int) -> set[int]:
    """Run the workers and return the numbers of trials that the sampler logged as repeats."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _worker_source(), storage_spec, study_name, str(n_trials)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n_workers)
    ]
    repeated: set[int] = set()
    for process in processes:
        _, stderr = process.communicate(timeout=240)
        assert process.returncode == 0, stderr
        repeated.update(int(number) for number in _REPEAT_WARNING.findall(stderr))
    return repeated


def _check_shared_study(study: optuna.Study, n_expected: int, repeated: set[int]) -> None:
    trials = study.trials
    assert len(trials) == n_expected
    assert all(t.state == TrialState.COMPLETE for t in trials)
    # A trial that starts before any trial has suggested a parameter has no known search space
    # to check, so it publishes no point (one such trial per worker at most). Every other trial
    # publishes its point before suggesting, and workers that planned the same point at the
    # same moment plan again, for a few rounds at most, after which the sampler logs the trial.
    # So a point may repeat only for a logged trial or an unchecked one.
    unplanned = {t.number for t in trials if _POINT_KEY not in t.system_attrs}
    assert len(unplanned) <= 3
    first_use: dict[tuple, int] = {}
    for trial in trials:
        point = tuple(trial.params[f"edge{i}"] for i in range(_N_EDGES))
        if point in first_use:
            assert {trial.number, first_use[point]} & (repeated | unplanned), (
                f"trials {first_use[point]} and {trial.number} received the same parameters "
                "and the sampler logged neither as a repeat"
            )
        first_use.setdefault(point, trial.number)

    generations = [t.system_attrs[_GENERATION_KEY] for t in trials]
    assert max(generations) >= 2
    parent_keys = [
        key for key in study._storage.get_study_system_attrs(study._study_id)
        if key.startswith(_PARENT_PREFIX)
    ]
    assert len(parent_keys) >= 2


@pytest.mark.slow
def test_parallel_workers_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parallel.db'}"
    study = optuna.create_study(
        study_name="parallel", storage=url, directions=["maximize", "minimize"]
    )
    repeated = _run_workers(url, "parallel", n_workers=3, n_trials=16)
    _check_shared_study(optuna.load_study(study_name="parallel", storage=url), 48, repeated)
    assert study.study_name == "parallel"


@pytest.mark.slow
def test_parallel_workers_on_journal_file(tmp_path: Path) -> None:
    path = tmp_path / "parallel.log"
    storage = JournalStorage(JournalFileBackend(str(path)))
    optuna.create_study(study_name="journal", storage=storage, directions=["maximize", "minimize"])
    repeated = _run_workers(f"journal:{path}", "journal", n_workers=3, n_trials=16)
    storage = JournalStorage(JournalFileBackend(str(path)))
    _check_shared_study(optuna.load_study(study_name="journal", storage=storage), 48, repeated)


class _InterleavingStorage(RDBStorage):
    """SQLite storage that lets another worker plan while one worker publishes its point.

    The first write of ``LayerwiseNSGASampler:point`` for trial ``hold_trial_id`` runs
    ``other_worker`` first, so both workers read the storage before either has written.
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.hold_trial_id: int | None = None
        self.other_worker: Callable[[], None] | None = None

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        if trial_id == self.hold_trial_id and key == _POINT_KEY and self.other_worker:
            other_worker, self.other_worker = self.other_worker, None
            other_worker()
        super().set_trial_system_attr(trial_id, key, value)


def test_concurrent_plans_get_different_points(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 2 * 2 = 4 points, 2 of them finished: two workers planning at the same moment pick from
    # the same 2 unused points. Some seeds make them pick the same one.
    n_collisions = 0
    for seed in range(20):
        storage = _InterleavingStorage(f"sqlite:///{tmp_path / f'same-moment-{seed}.db'}")
        study_a = optuna.create_study(
            storage=storage, directions=["minimize", "minimize"],
            sampler=LayerwiseNSGASampler(seed=seed),
        )
        study_b = optuna.load_study(
            study_name=study_a.study_name, storage=storage,
            sampler=LayerwiseNSGASampler(seed=seed),
        )
        study_a.enqueue_trial({"a": 0, "b": 0})
        study_a.enqueue_trial({"a": 1, "b": 1})
        study_a.optimize(_two_by_two, n_trials=2)

        trial_a = study_a.ask()
        trial_b = study_b.ask()
        storage.hold_trial_id = trial_b._trial_id
        storage.other_worker = lambda: [trial_a.suggest_int(n, 0, 1) for n in ("a", "b")]
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="optuna_hwprune"):
            point_b = tuple(trial_b.suggest_int(n, 0, 1) for n in ("a", "b"))
        point_a = tuple(trial_a.params[n] for n in ("a", "b"))

        assert storage.other_worker is None, "the other worker did not plan in between"
        assert point_a != point_b
        assert {point_a, point_b} == {(0, 1), (1, 0)}
        assert "repeats the parameters" not in caplog.text
        n_collisions += "planning again" in caplog.text
        if n_collisions > 0:
            break
    assert n_collisions > 0, "no seed made the workers plan the same point"


def _two_by_two(trial: optuna.Trial) -> tuple[float, float]:
    a = trial.suggest_int("a", 0, 1)
    b = trial.suggest_int("b", 0, 1)
    return float(a), float(b)


def test_resume_with_load_if_exists_continues(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    directions = ["maximize", "minimize"]
    study = optuna.create_study(
        study_name="resume", storage=url, directions=directions,
        sampler=LayerwiseNSGASampler(seed=0),
    )
    study.optimize(_objective, n_trials=30)
    first_part = study.trials
    last_generation = max(t.system_attrs[_GENERATION_KEY] for t in first_part)
    assert last_generation >= 2

    # A new process would build a new sampler; its caches start empty.
    reopened = optuna.create_study(
        study_name="resume", storage=url, directions=directions,
        sampler=LayerwiseNSGASampler(seed=0), load_if_exists=True,
    )
    reopened.optimize(_objective, n_trials=20)
    second_part = reopened.trials[30:]

    generations = [t.system_attrs[_GENERATION_KEY] for t in second_part]
    assert min(generations) >= last_generation
    assert max(generations) > last_generation
    earlier = {tuple(sorted(t.params.items())) for t in first_part}
    later = [tuple(sorted(t.params.items())) for t in second_part]
    assert not earlier & set(later), "the reopened study replayed earlier points"
