"""Several worker processes on one study, and a study reopened with load_if_exists."""

from __future__ import annotations

from pathlib import Path
import re
import subprocess
import sys

import optuna
from optuna.storages import JournalStorage
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
