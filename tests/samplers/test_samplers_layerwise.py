from __future__ import annotations

import math
import warnings

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import TrialState
import pytest

from optuna_hwprune.samplers import LayerwiseNSGASampler
from optuna_hwprune.samplers._duplicates import vary_one_parameter
from optuna_hwprune.samplers._ranking import select_elite

optuna.logging.set_verbosity(optuna.logging.WARNING)

_GENERATION_KEY = "LayerwiseNSGASampler:generation"
_PARENT_PREFIX = "LayerwiseNSGASampler:parent:"


class _Marker:
    """A categorical choice whose identity must survive sampling."""


MARKER = _Marker()
MIXED_CHOICES = (1, 1.0, True, "1", None, MARKER)


def _parent_ids(study: optuna.Study) -> set[int]:
    attrs = study._storage.get_study_system_attrs(study._study_id)
    parent_lists = [ids for key, ids in attrs.items() if key.startswith(_PARENT_PREFIX)]
    return {trial_id for ids in parent_lists for trial_id in ids}


def test_values_inside_requested_distributions() -> None:
    checked = {"count": 0}

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 10.0)
        # A range that depends on another parameter.
        y = trial.suggest_float("y", x, x + 1.0)
        n = trial.suggest_int("n", 2, 64, log=True)
        m = trial.suggest_int("m", -10, 20, step=5)
        z = trial.suggest_float("z", 1e-4, 1.0, log=True)
        w = trial.suggest_float("w", 0.0, 1.0, step=0.1)
        upper = max(1, int(x))
        k = trial.suggest_int("k", 0, upper)
        c = trial.suggest_categorical("c", MIXED_CHOICES)

        assert x <= y <= x + 1.0
        assert 2 <= n <= 64
        assert isinstance(n, int)
        assert m in range(-10, 21, 5)
        assert isinstance(m, int)
        assert 1e-4 <= z <= 1.0
        assert FloatDistribution(0.0, 1.0, step=0.1)._contains(w)
        assert 0 <= k <= upper
        assert isinstance(k, int)
        assert any(c is choice for choice in MIXED_CHOICES)
        checked["count"] += 1
        return x + y + n + k, -(z + w + m)

    study = optuna.create_study(
        directions=["minimize", "minimize"], sampler=LayerwiseNSGASampler(seed=0)
    )
    study.optimize(objective, n_trials=80)
    assert checked["count"] == 80
    assert max(t.system_attrs[_GENERATION_KEY] for t in study.trials) >= 3


def test_categorical_choices_keep_type_and_identity() -> None:
    seen = []

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        value = trial.suggest_categorical("c", MIXED_CHOICES)
        seen.append(value)
        index = next(i for i, choice in enumerate(MIXED_CHOICES) if choice is value)
        return float(index), float(-index)

    study = optuna.create_study(
        directions=["minimize", "minimize"],
        sampler=LayerwiseNSGASampler(population_size=4, seed=1),
    )
    study.optimize(objective, n_trials=40)
    for value in seen:
        matches = [choice for choice in MIXED_CHOICES if choice is value]
        assert len(matches) == 1, f"{value!r} is not one of the choice objects"
    # Optuna stores 1, 1.0 and True under one index (CategoricalDistribution.to_internal_repr
    # uses list.index), but the values handed to the objective stay distinct objects.
    assert len({id(v) for v in seen}) >= 4


def test_only_complete_trials_become_parents() -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_float("y", 0.0, 1.0)
        if trial.number % 3 == 1:
            raise optuna.TrialPruned()
        if trial.number % 3 == 2:
            raise RuntimeError("failed on purpose")
        return x, 1.0 - x + y

    sampler = LayerwiseNSGASampler(population_size=4, seed=2)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    # Trials left RUNNING must not become parents either.
    running = [study.ask() for _ in range(3)]
    for trial in running:
        trial.suggest_float("x", 0.0, 1.0)
    study.optimize(objective, n_trials=60, catch=(RuntimeError,))

    parents = _parent_ids(study)
    assert len(parents) > 0
    states = {t._trial_id: t.state for t in study.trials}
    assert {states[trial_id] for trial_id in parents} == {TrialState.COMPLETE}
    running_ids = {t._trial_id for t in running}
    assert not parents & running_ids


def test_sparse_generations_still_propose_valid_points() -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", -1.0, 1.0)
        n = trial.suggest_int("n", 0, 3)
        assert -1.0 <= x <= 1.0
        assert 0 <= n <= 3
        # Most trials fail, so generations fill slowly.
        if trial.number % 5 != 0:
            raise RuntimeError("failed on purpose")
        return x**2 + n, (x - 1.0) ** 2

    study = optuna.create_study(
        directions=["minimize", "minimize"],
        sampler=LayerwiseNSGASampler(population_size=4, seed=3),
    )
    study.optimize(objective, n_trials=60, catch=(RuntimeError,))
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 12
    assert max(t.system_attrs[_GENERATION_KEY] for t in complete) >= 1


def test_enqueued_trials_run_exactly_and_join_population() -> None:
    sampler = LayerwiseNSGASampler(population_size=4, seed=4)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    fixed = [{"x": 0.123456, "c": "b"}, {"x": 0.987654, "c": "a"}]
    for params in fixed:
        study.enqueue_trial(params)

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        c = trial.suggest_categorical("c", ["a", "b", "c"])
        return x, 1.0 - x + (c == "c")

    study.optimize(objective, n_trials=12)
    for trial, params in zip(study.trials, fixed):
        assert trial.params == params
        assert trial.system_attrs[_GENERATION_KEY] == 0
    population = sampler.get_population(study, 0)
    assert {0, 1} <= {t.number for t in population}


def test_no_duplicates_on_discrete_space() -> None:
    # 3 * 3 * 2 = 18 points: the first 18 trials must all differ.
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        a = trial.suggest_categorical("a", ["p", "q", "r"])
        b = trial.suggest_int("b", 0, 4, step=2)
        c = trial.suggest_float("c", 0.0, 0.5, step=0.5)
        return float(b) + c, float(a == "p") - b

    study = optuna.create_study(
        directions=["minimize", "minimize"],
        sampler=LayerwiseNSGASampler(population_size=4, seed=5),
    )
    study.optimize(objective, n_trials=18)
    points = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(points)) == 18

    # Once every point is used, sampling goes on (with repeats) instead of failing.
    study.optimize(objective, n_trials=3)
    assert len(study.trials) == 21


def test_no_duplicate_of_running_trials() -> None:
    sampler = LayerwiseNSGASampler(population_size=4, seed=6)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    # 2 * 2 * 2 = 8 points; seven trials stay RUNNING, so the eighth must take the last point.
    trials = []
    for _ in range(8):
        trial = study.ask()
        for name in ("a", "b", "c"):
            trial.suggest_categorical(name, [0, 1])
        trials.append(trial)
    points = {tuple(t.params[n] for n in ("a", "b", "c")) for t in trials}
    assert len(points) == 8


@pytest.mark.parametrize("storage_kind", ["memory", "sqlite"])
def test_no_duplicate_of_partly_suggested_trials(storage_kind: str, tmp_path) -> None:
    # 2 * 2 * 2 = 8 points. After one finished trial, seven trials are planned before any has
    # suggested more than its first parameter, alternating between two samplers as two worker
    # processes would.
    storage = None if storage_kind == "memory" else f"sqlite:///{tmp_path / 'plans.db'}"
    study_a = optuna.create_study(
        storage=storage, directions=["minimize", "minimize"],
        sampler=LayerwiseNSGASampler(population_size=4, seed=6),
    )
    study_b = optuna.load_study(
        study_name=study_a.study_name, storage=study_a._storage,
        sampler=LayerwiseNSGASampler(population_size=4, seed=6),
    )
    first = study_a.ask()
    for name in ("a", "b", "c"):
        first.suggest_categorical(name, [0, 1])
    study_a.tell(first, (0.0, 0.0))

    trials = [first]
    for i in range(7):
        trial = (study_a if i % 2 == 0 else study_b).ask()
        trial.suggest_categorical("a", [0, 1])
        trials.append(trial)
    for trial in trials[1:]:
        trial.suggest_categorical("b", [0, 1])
        trial.suggest_categorical("c", [0, 1])
    points = {tuple(t.params[n] for n in ("a", "b", "c")) for t in trials}
    assert len(points) == 8


def _point(trial: optuna.trial.FrozenTrial) -> tuple:
    # Floats compare at 12 significant digits: a copied parent may differ in the last bits.
    items = [(n, float(f"{v:.12g}") if isinstance(v, float) else v) for n, v in trial.params.items()]
    return tuple(sorted(items))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_duplicates_on_mixed_space_with_seeds(seed: int) -> None:
    # A seed search: six categorical cell edges plus training settings of every kind, started
    # from four enqueued seed cells that form the whole first generation.
    ops = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        cell = [trial.suggest_categorical(f"edge{i}", ops) for i in range(6)]
        lr = trial.suggest_float("lr", 1e-3, 0.5, log=True)
        weight_decay = trial.suggest_float("weight_decay", 0.0, 1e-3)
        batch_size = trial.suggest_int("batch_size", 32, 256, step=32)
        optimizer = trial.suggest_categorical("optimizer", ("sgd", "adam"))
        n_conv = sum("conv" in op for op in cell)
        cost = -n_conv + 100 * weight_decay + batch_size / 256 + (optimizer == "adam")
        return n_conv + lr, cost

    study = optuna.create_study(
        directions=["maximize", "minimize"],
        sampler=LayerwiseNSGASampler(population_size=4, seed=seed),
    )
    for k in range(4):
        cell = {f"edge{i}": ops[(k + i) % 5] for i in range(6)}
        hyperparameters = {"lr": 0.1, "weight_decay": 5e-4, "batch_size": 128}
        study.enqueue_trial({**cell, **hyperparameters, "optimizer": "sgd"})
    study.optimize(objective, n_trials=40)

    earlier: dict[tuple, int] = {}
    for trial in study.trials:
        point = _point(trial)
        assert point not in earlier, f"trial {trial.number} repeats trial {earlier[point]}"
        earlier[point] = trial.number


def test_vary_one_parameter_changes_one_value() -> None:
    distributions = {
        "c": CategoricalDistribution(("x", "y", "z")),
        "i": IntDistribution(0, 3),
        "log_i": IntDistribution(1, 64, log=True),
        "f": FloatDistribution(0.0, 1.0),
        "step_f": FloatDistribution(0.0, 1.0, step=0.25),
        "fixed": IntDistribution(5, 5),
    }
    entries = {
        "c": (False, "z"),
        "i": (True, 1.0),
        "log_i": (True, 0.0),
        "f": (True, 1.0),
        "step_f": (True, 0.5),
        "fixed": (True, 0.5),
    }
    rng = np.random.default_rng(0)
    changed_names = set()
    for _ in range(200):
        varied = vary_one_parameter(entries, distributions, rng)
        before = {n: LayerwiseNSGASampler._value_for(entries[n], d, rng) for n, d in distributions.items()}
        after = {n: LayerwiseNSGASampler._value_for(varied[n], d, rng) for n, d in distributions.items()}
        changed = [n for n in distributions if before[n] != after[n]]
        assert len(changed) == 1
        changed_names.update(changed)
        assert 0.0 <= varied["f"][1] <= 1.0
    assert changed_names == set(distributions) - {"fixed"}


def test_constraints_with_set_constraint() -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_float("y", 0.0, 1.0)
        trial.set_constraint("x_max", x - 0.3)
        return x, 1.0 - x + y

    sampler = LayerwiseNSGASampler(population_size=8, seed=7)
    study = optuna.create_study(directions=["minimize", "maximize"], sampler=sampler)
    study.optimize(objective, n_trials=80)
    late = study.trials[-32:]
    feasible_share = np.mean([t.params["x"] <= 0.3 for t in late])
    # Uniform sampling would give 30 %; selection under constraints pushes it up.
    assert feasible_share > 0.6
    parents = _parent_ids(study)
    by_id = {t._trial_id: t for t in study.trials}
    last_parents = [by_id[i] for i in parents if by_id[i].number >= 40]
    assert all(t.constraints["x_max"] <= 0 for t in last_parents)


def test_constraints_func_is_stored_for_complete_trials_only() -> None:
    calls = []

    def constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
        calls.append(trial.number)
        return [trial.params["x"] - 0.3, float("nan") if trial.number == 4 else -1.0]

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        if trial.number == 2:
            raise optuna.TrialPruned()
        return x, 1.0 - x

    sampler = LayerwiseNSGASampler(population_size=4, seed=8, constraints_func=constraints)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.optimize(objective, n_trials=30)

    assert 2 not in calls
    assert study.trials[2].constraints == {}
    assert study.trials[0].constraints["0"] == pytest.approx(study.trials[0].params["x"] - 0.3)
    assert math.isnan(study.trials[4].constraints["1"])
    # The NaN trial ranks behind every feasible one of its generation.
    generation = sampler.get_population(study, study.trials[4].system_attrs[_GENERATION_KEY])
    n_feasible = sum(all(v <= 0 for v in t.constraints.values()) for t in generation)
    assert n_feasible > 0
    elite = select_elite(generation, study.directions, size=n_feasible, constrained=True)
    assert 4 not in [t.number for t in elite]


def test_many_objectives_and_single_objective() -> None:
    def objective3(trial: optuna.Trial) -> tuple[float, float, float]:
        x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(4)]
        return x[0], x[1], sum(x)

    study = optuna.create_study(directions=["minimize"] * 3, sampler=LayerwiseNSGASampler(seed=9))
    study.optimize(objective3, n_trials=40)
    assert len(study.best_trials) > 0

    study = optuna.create_study(sampler=LayerwiseNSGASampler(seed=9))
    study.optimize(lambda t: (t.suggest_float("x", -3.0, 3.0) - 1.0) ** 2, n_trials=60)
    assert study.best_value < 0.05


def test_default_population_grows() -> None:
    sampler = LayerwiseNSGASampler()
    sizes_2 = [sampler.generation_size(g, 2) for g in range(100)]
    sizes_3 = [sampler.generation_size(g, 3) for g in range(100)]
    assert sizes_2[0] == 8
    assert sizes_2 == sorted(sizes_2)
    assert sizes_2[-1] == 64
    assert all(b >= a for a, b in zip(sizes_2, sizes_3))
    assert LayerwiseNSGASampler(population_size=12).generation_size(5, 3) == 12


@pytest.mark.parametrize(
    "kwargs",
    [
        {"population_size": 3},
        {"crossover_prob": 1.5},
        {"shift_prob": -0.1},
        {"mutation_prob": 2.0},
    ],
)
def test_invalid_arguments_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        LayerwiseNSGASampler(**kwargs)


@pytest.mark.parametrize("size", [0, 2, 3])
def test_small_population_error_names_fix(size: int) -> None:
    with pytest.raises(ValueError) as error:
        LayerwiseNSGASampler(population_size=size)
    message = str(error.value)
    assert f"got {size}" in message
    assert "at least 4" in message
    assert "Pass population_size=4 or more, or None" in message


def test_same_seed_reproduces_sequential_run() -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        c = trial.suggest_categorical("c", ["a", "b", "c"])
        return x, (1.0 - x) * (1 + (c == "a"))

    runs = []
    for _ in range(2):
        study = optuna.create_study(
            directions=["minimize", "minimize"], sampler=LayerwiseNSGASampler(seed=10)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            study.optimize(objective, n_trials=30)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def test_sampler_reused_across_studies() -> None:
    sampler = LayerwiseNSGASampler(population_size=4, seed=11)
    first = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    first.optimize(lambda t: (t.suggest_float("x", 0, 1), -t.suggest_float("x", 0, 1)), 20)

    # A second in-memory study gets the same study id; nothing may leak from the first.
    second = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    second.optimize(lambda t: (t.suggest_int("y", 0, 9), -t.suggest_int("y", 0, 9)), n_trials=20)
    assert second._study_id == first._study_id
    parents = sampler.get_parent_population(second, 1)
    assert len(parents) > 0
    assert all(set(p.params) == {"y"} for p in parents)


def test_threads_share_one_sampler() -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        c = trial.suggest_categorical("c", ["a", "b"])
        return x, (1.0 - x) * (1.5 if c == "a" else 1.0)

    study = optuna.create_study(
        directions=["minimize", "minimize"],
        sampler=LayerwiseNSGASampler(population_size=4, seed=12),
    )
    study.optimize(objective, n_trials=40, n_jobs=2)
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 40
    assert max(t.system_attrs[_GENERATION_KEY] for t in study.trials) >= 2
