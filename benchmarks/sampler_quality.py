"""Pareto-front quality per trial of LayerwiseNSGASampler against Optuna's samplers.

Problems:

1. NAS-Bench-201 (6 categorical edge operations): maximise test accuracy, minimise the
   HW-NAS-Bench FPGA latency, on cifar10, cifar100 and ImageNet16-120. The true front is known
   from the table of all 15,625 cells.
2. Layer-wise magnitude pruning without fine-tuning of a 16-layer CNN trained on 5,000 real
   MNIST digits: maximise validation accuracy, maximise estimated speedup. The true front is
   approximated by pooling the trials of every run.
3. ZDT1 and DTLZ2 (3 objectives), both with 30 variables; analytic fronts.

The score is the hypervolume of the first N trials divided by the hypervolume of the true (or
pooled) front, for the same reference point. Every run uses in-memory storage.

Usage::

    nice python benchmarks/sampler_quality.py --data-root ../shared/data
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import math
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from optuna_hwprune.indicators import hypervolume
from optuna_hwprune.indicators import pareto_front_mask
from optuna_hwprune.samplers import LayerwiseNSGASampler

_logger = logging.getLogger("sampler_quality")

REPO_ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = (50, 100, 300)
NSGAII_POPULATION_SWEEP = (8, 16, 24, 50)


@dataclass
class Problem:
    """A benchmark problem: objective, directions, reference point and (known) front."""

    name: str
    directions: list[str]
    objective: Callable[[optuna.Trial], tuple[float, ...]]
    # Minimisation form: maximised objectives are negated.
    reference_point: np.ndarray
    true_front: np.ndarray | None

    def losses(self, values: np.ndarray) -> np.ndarray:
        signs = np.array([-1.0 if d == "maximize" else 1.0 for d in self.directions])
        return values * signs


# Problem 1: NAS-Bench-201 -------------------------------------------------------------------


def _nasbench_columns(dataset: str, data_root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (op codes per cell, test accuracy, FPGA latency), from the bundled table if any."""
    try:
        from optuna_hwprune.nasbench.space import op_codes
        from optuna_hwprune.nasbench.table import load_table

        table = load_table()
        return (
            np.asarray(op_codes()),
            np.asarray(table.column(dataset, "test_accuracy")),
            np.asarray(table.column(dataset, "fpga_latency")),
        )
    except ImportError:
        import csv

        accuracy_column = {
            "cifar10": "CIFAR10TestAccuracy200Epochs",
            "cifar100": "CIFAR100TestAccuracy200Epochs",
            "ImageNet16-120": "ImageNetTestAccuracy200Epochs",
        }[dataset]
        with open(data_root / "nas-bench-201" / "nb201_test_accuracy.csv") as f:
            accuracy = np.array([float(row[accuracy_column]) for row in csv.DictReader(f)])
        codes, latency = [], []
        with open(data_root / "hw-nas-bench" / f"hw_{dataset}.csv") as f:
            for row in csv.DictReader(f):
                net = [int(v) for v in row["net"].strip("()").split(",")]
                # The CSV lists edges as (1<-0, 2<-0, 3<-0, 2<-1, 3<-1, 3<-2).
                codes.append([net[0], net[1], net[3], net[2], net[4], net[5]])
                latency.append(float(row["fpga_latency"]))
        return np.array(codes), accuracy, np.array(latency)


OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
EDGES = ("1_0", "2_0", "2_1", "3_0", "3_1", "3_2")


def nasbench_problem(dataset: str, data_root: Path, reference_quantile: float) -> Problem:
    codes, accuracy, latency = _nasbench_columns(dataset, data_root)
    keys = np.zeros(len(codes), dtype=np.int64)
    for column in range(codes.shape[1]):
        keys = keys * len(OPS) + codes[:, column]
    index_of_key = np.full(len(OPS) ** len(EDGES), -1, dtype=np.int64)
    index_of_key[keys] = np.arange(len(codes))

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        key = 0
        for edge in EDGES:
            key = key * len(OPS) + OPS.index(trial.suggest_categorical(f"edge_{edge}", OPS))
        index = index_of_key[key]
        return float(accuracy[index]), float(latency[index])

    losses = np.stack([-accuracy, latency], axis=1)
    # cifar10 uses accuracy 85 %; the other datasets use the accuracy at the same quantile.
    if dataset == "cifar10":
        reference_accuracy = 85.0
    else:
        reference_accuracy = float(np.quantile(accuracy, reference_quantile))
    reference = np.array([-reference_accuracy, float(np.median(latency))])
    return Problem(
        name=f"nb201-{dataset}",
        directions=["maximize", "minimize"],
        objective=objective,
        reference_point=reference,
        true_front=np.unique(losses[pareto_front_mask(losses)], axis=0),
    )


# Problem 2: layer-wise pruning of a trained CNN ---------------------------------------------


def pruning_problem(data_root: Path, cache_dir: Path) -> Problem:
    import torch
    from torch import nn

    from optuna_hwprune.pruning import magnitude_masks, prunable_layers

    torch.set_num_threads(1)
    with gzip.open(data_root / "mnist" / "mnist_5k.csv.gz", "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    images = torch.from_numpy(table[:, :784].reshape(-1, 1, 28, 28) / 255.0)
    images = nn.functional.avg_pool2d(images, 2)  # 14 x 14 keeps each evaluation fast
    labels = torch.from_numpy(table[:, 784].astype(np.int64))
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(labels)))
    train_idx, val_idx = order[:4000], order[4000:4400]

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

    layers: list[nn.Module] = block(1, 8)
    for _ in range(6):
        layers += block(8, 8)
    layers += [nn.MaxPool2d(2)] + block(8, 16)
    for _ in range(6):
        layers += block(16, 16)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    layers += [nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 10)]
    torch.manual_seed(0)
    model = nn.Sequential(*layers)

    cache = cache_dir / "sampler_quality_cnn8x16.pt"
    if cache.is_file():
        model.load_state_dict(torch.load(cache))
    else:
        _logger.info("training the 16-layer CNN on 4,000 MNIST digits (cached at %s)", cache)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        generator = torch.Generator().manual_seed(0)
        for _epoch in range(6):
            model.train()
            for batch in torch.randperm(len(train_idx), generator=generator).split(64):
                x, y = images[train_idx[batch]], labels[train_idx[batch]]
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), cache)
    model.eval()

    names = list(prunable_layers(model))
    modules = prunable_layers(model)
    dense_weights = {name: modules[name].weight.detach().clone() for name in names}
    val_x, val_y = images[val_idx], labels[val_idx]
    speedup = _speedup_function(model, names, torch.zeros(1, 1, 14, 14))

    def accuracy() -> float:
        with torch.no_grad():
            return float((model(val_x).argmax(1) == val_y).float().mean())

    dense_accuracy = accuracy()
    _logger.info(
        "dense CNN: %d prunable layers, validation accuracy %.4f", len(names), dense_accuracy
    )

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        sparsity = {name: trial.suggest_float(f"sparsity_{name}", 0.0, 0.95) for name in names}
        with torch.no_grad():
            for name in names:
                modules[name].weight.copy_(dense_weights[name])
            masks = magnitude_masks(model, sparsity)
            for name in names:
                modules[name].weight.mul_(masks[name])
        return accuracy(), speedup(sparsity)

    return Problem(
        name="prune-cnn16-mnist",
        directions=["maximize", "maximize"],
        objective=objective,
        reference_point=np.array([-0.5, -1.0]),
        true_front=None,
    )


SPEEDUP_SOURCE = "MAC-count speedup (FPGAEstimator not available)"


def _speedup_function(model: Any, names: list[str], sample_input: Any) -> Callable[[dict], float]:
    global SPEEDUP_SOURCE
    try:
        from optuna_hwprune.hardware import FPGAEstimator, extract_workloads

        workloads = extract_workloads(model, sample_input)
        estimator = FPGAEstimator()
        SPEEDUP_SOURCE = "optuna_hwprune.hardware.FPGAEstimator().speedup (an estimate)"
        return lambda sparsity: float(estimator.speedup(workloads, sparsity))
    except ImportError:
        pass

    import torch

    macs: dict[str, float] = {}
    hooks = []
    modules = dict(model.named_modules())
    for name in names:
        def hook(module: Any, inputs: Any, output: Any, name: str = name) -> None:
            per_output = module.weight[0].numel()
            macs[name] = float(output[0].numel() * per_output)
        hooks.append(modules[name].register_forward_hook(hook))
    with torch.no_grad():
        model(sample_input)
    for handle in hooks:
        handle.remove()
    total = sum(macs.values())
    return lambda sparsity: total / sum(macs[n] * (1.0 - sparsity.get(n, 0.0)) for n in names)


# Problem 3: ZDT1 and DTLZ2 ------------------------------------------------------------------


def zdt1_problem(n_variables: int = 30) -> Problem:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(n_variables)])
        g = 1.0 + 9.0 * x[1:].mean()
        return float(x[0]), float(g * (1.0 - math.sqrt(x[0] / g)))

    f1 = np.linspace(0.0, 1.0, 2001)
    return Problem(
        name="zdt1-30",
        directions=["minimize", "minimize"],
        objective=objective,
        reference_point=np.array([1.1, 6.0]),
        true_front=np.stack([f1, 1.0 - np.sqrt(f1)], axis=1),
    )


def dtlz2_problem(n_variables: int = 30, n_objectives: int = 3) -> Problem:
    def objective(trial: optuna.Trial) -> tuple[float, ...]:
        x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(n_variables)])
        g = float(((x[n_objectives - 1 :] - 0.5) ** 2).sum())
        values = []
        for m in range(n_objectives):
            value = 1.0 + g
            value *= np.prod(np.cos(x[: n_objectives - 1 - m] * math.pi / 2))
            if m > 0:
                value *= math.sin(x[n_objectives - 1 - m] * math.pi / 2)
            values.append(float(value))
        return tuple(values)

    grid = np.linspace(0.0, 1.0, 61)
    a, b = np.meshgrid(grid, grid)
    a, b = a.ravel() * math.pi / 2, b.ravel() * math.pi / 2
    front = np.stack([np.cos(a) * np.cos(b), np.cos(a) * np.sin(b), np.sin(a)], axis=1)
    return Problem(
        name="dtlz2-30",
        directions=["minimize"] * n_objectives,
        objective=objective,
        reference_point=np.full(n_objectives, 2.5),
        true_front=front,
    )


def true_hypervolume(problem: Problem) -> float:
    if problem.name == "dtlz2-30":
        # Reference cube minus the unit-sphere octant that the front bounds.
        return float(np.prod(problem.reference_point) - math.pi / 6.0)
    if problem.name == "zdt1-30":
        r1, r2 = problem.reference_point
        return float(r1 * r2 - 1.0 / 3.0)
    assert problem.true_front is not None
    return hypervolume(problem.true_front, problem.reference_point)


# Samplers and runs --------------------------------------------------------------------------


SamplerFactory = Callable[[int], optuna.samplers.BaseSampler]


def sampler_factories(nsgaii_population: int | None) -> dict[str, SamplerFactory]:
    factories: dict[str, SamplerFactory] = {
        "LayerwiseNSGASampler": lambda seed: LayerwiseNSGASampler(seed=seed),
        "NSGAIISampler": lambda seed: optuna.samplers.NSGAIISampler(seed=seed),
    }
    if nsgaii_population is not None:
        factories[f"NSGAIISampler(population_size={nsgaii_population})"] = (
            lambda seed: optuna.samplers.NSGAIISampler(
                population_size=nsgaii_population, seed=seed
            )
        )
    factories["TPESampler"] = lambda seed: optuna.samplers.TPESampler(seed=seed)
    factories["RandomSampler"] = lambda seed: optuna.samplers.RandomSampler(seed=seed)
    return factories


def run_once(
    problem: Problem, sampler: optuna.samplers.BaseSampler, n_trials: int
) -> dict[str, Any]:
    study = optuna.create_study(directions=problem.directions, sampler=sampler)
    start = time.perf_counter()
    study.optimize(problem.objective, n_trials=n_trials)
    elapsed = time.perf_counter() - start
    values = np.array([t.values for t in study.trials if t.values is not None], dtype=float)
    return {"losses": problem.losses(values), "seconds": elapsed}


def score_runs(
    problem: Problem, runs: list[dict[str, Any]], checkpoints: tuple[int, ...]
) -> dict[str, Any]:
    """Return hypervolume ratios per checkpoint and true-front points found, per run."""
    front = problem.true_front
    if front is None:
        pooled = np.concatenate([run["losses"] for run in runs])
        front = np.unique(pooled[pareto_front_mask(pooled)], axis=0)
        reference_volume = hypervolume(front, problem.reference_point)
    else:
        reference_volume = true_hypervolume(problem)

    front_keys = {tuple(np.round(point, 9)) for point in front}
    scores: dict[str, Any] = {str(k): [] for k in checkpoints}
    found = []
    for run in runs:
        for k in checkpoints:
            ratio = hypervolume(run["losses"][:k], problem.reference_point) / reference_volume
            scores[str(k)].append(ratio)
        hits = {tuple(np.round(point, 9)) for point in run["losses"]} & front_keys
        found.append(len(hits))
    return {"hypervolume_ratio": scores, "front_points_found": found, "front_size": len(front)}


def summarize(values: list[float]) -> dict[str, float]:
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return {
        "median": float(median),
        "q1": float(q1),
        "q3": float(q3),
        "min": float(min(values)),
        "max": float(max(values)),
    }


def sweep_nsgaii(
    problem: Problem, seeds: list[int], n_trials: int
) -> tuple[int, dict[str, float]]:
    """Return the NSGA-II population size with the best median ratio at ``n_trials``."""
    medians: dict[str, float] = {}
    runs_by_size = {}
    for size in NSGAII_POPULATION_SWEEP:
        runs_by_size[size] = []
        for seed in seeds:
            sampler = optuna.samplers.NSGAIISampler(population_size=size, seed=seed)
            runs_by_size[size].append(run_once(problem, sampler, n_trials))
    pooled = [run for runs in runs_by_size.values() for run in runs]
    for size, runs in runs_by_size.items():
        # Score each size against the same front (pooled over the sweep when it is unknown).
        scored = runs if problem.true_front is not None else pooled
        score = score_runs(problem, scored, (n_trials,))
        ratios = score["hypervolume_ratio"][str(n_trials)]
        if problem.true_front is None:
            start = list(runs_by_size).index(size) * len(seeds)
            ratios = ratios[start : start + len(seeds)]
        medians[str(size)] = float(statistics.median(ratios))
    best = max(NSGAII_POPULATION_SWEEP, key=lambda size: medians[str(size)])
    return best, medians


def benchmark_problem(
    problem: Problem, seeds: list[int], n_trials: int, sweep_seeds: list[int]
) -> dict[str, Any]:
    best_size, sweep = sweep_nsgaii(problem, sweep_seeds, 100)
    _logger.info(
        "%s: NSGA-II population sweep at 100 trials %s -> %d", problem.name, sweep, best_size
    )
    factories = sampler_factories(best_size if best_size != 50 else None)

    runs: dict[str, list[dict[str, Any]]] = {}
    for name, factory in factories.items():
        runs[name] = []
        for seed in seeds:
            runs[name].append(run_once(problem, factory(seed), n_trials))
        seconds = sum(run["seconds"] for run in runs[name])
        _logger.info("%s: %s finished in %.1f s", problem.name, name, seconds)

    checkpoints = tuple(k for k in CHECKPOINTS if k <= n_trials)
    pooled_runs = [run for name_runs in runs.values() for run in name_runs]
    all_scores = score_runs(problem, pooled_runs, checkpoints)
    result: dict[str, Any] = {
        "reference_point_minimisation_form": problem.reference_point.tolist(),
        "directions": problem.directions,
        "front_size": all_scores["front_size"],
        "nsgaii_population_sweep_median_at_100": sweep,
        "nsgaii_best_population": best_size,
        "samplers": {},
    }
    for position, name in enumerate(runs):
        window = slice(position * len(seeds), (position + 1) * len(seeds))
        entry: dict[str, Any] = {}
        for k in checkpoints:
            ratios = all_scores["hypervolume_ratio"][str(k)][window]
            entry[f"hypervolume_ratio_{k}"] = summarize(ratios)
            entry[f"hypervolume_ratio_{k}_per_seed"] = ratios
        entry["front_points_found"] = summarize(all_scores["front_points_found"][window])
        entry["ms_per_trial"] = float(
            1000.0 * statistics.median(r["seconds"] for r in runs[name]) / n_trials
        )
        result["samplers"][name] = entry
    return result


# Sampling overhead --------------------------------------------------------------------------


def measure_overhead(n_trials: int, window: int, repeats: int = 1) -> dict[str, float]:
    """Return ms per trial over the last ``window`` of ``n_trials`` trials, cheap objective.

    With ``repeats`` > 1 each sampler runs that many studies and the median is kept.
    """

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(10)]
        return sum(x), sum((1.0 - v) ** 2 for v in x)

    result = {}
    for name, factory in (
        ("LayerwiseNSGASampler", lambda: LayerwiseNSGASampler(seed=0)),
        ("NSGAIISampler", lambda: optuna.samplers.NSGAIISampler(seed=0)),
    ):
        timings = []
        for _ in range(repeats):
            study = optuna.create_study(directions=["minimize", "minimize"], sampler=factory())
            study.optimize(objective, n_trials=n_trials - window)
            start = time.perf_counter()
            study.optimize(objective, n_trials=window)
            timings.append(1000.0 * (time.perf_counter() - start) / window)
        result[name] = float(statistics.median(timings))
    return result


# Report -------------------------------------------------------------------------------------


def render_markdown(record: dict[str, Any]) -> str:
    merged = record.get("merged_commands", [])
    lines = [
        "# Sampler quality: LayerwiseNSGASampler against Optuna's samplers",
        "",
        f"Machine: {record['machine']}. Optuna {record['optuna_version']}.",
        f"Command: `{record['command']}`",
        *[f"Merged from: `{command}`" for command in merged],
        *(["(a later record replaces an earlier one for the same problem)"] if merged else []),
        "",
        "Score: hypervolume of the first N trials divided by the hypervolume of the true front",
        "(pooled front of every run for the pruning problem), same reference point; median over",
        f"{record['n_seeds']} seeds, with the interquartile range in brackets. \"Front\" is the",
        "median number of true (or pooled) front points that a run found in 300 trials. ms/trial",
        "is wall time per trial including the objective.",
        "",
    ]
    for problem_name, result in record["problems"].items():
        sweep = result["nsgaii_population_sweep_median_at_100"]
        lines += [
            f"## {problem_name}",
            "",
            f"Reference point (minimisation form): {result['reference_point_minimisation_form']}; "
            f"front size {result['front_size']}; NSGA-II population sweep (median ratio at 100 "
            f"trials, {record['n_sweep_seeds']} seeds): "
            + ", ".join(f"{size}: {ratio:.3f}" for size, ratio in sweep.items())
            + ".",
            *([f"Speedup: {result['speedup']}.", ""] if "speedup" in result else [""]),
            "| sampler | HV ratio @50 | HV ratio @100 | HV ratio @300 | front | ms/trial |",
            "|---|---|---|---|---|---|",
        ]
        for name, entry in result["samplers"].items():
            cells = []
            for k in CHECKPOINTS:
                stats = entry.get(f"hypervolume_ratio_{k}")
                if stats is None:
                    cells.append("n/a")
                else:
                    cells.append(f"{stats['median']:.3f} [{stats['q1']:.3f}, {stats['q3']:.3f}]")
            found = entry["front_points_found"]["median"]
            row = [name, *cells, f"{found:g}", f"{entry['ms_per_trial']:.1f}"]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    if "overhead_ms_per_trial" in record:
        overhead = record["overhead_ms_per_trial"]
        lines += [
            "## Sampling overhead",
            "",
            "Cheap objective (10 floats, 2 objectives), in-memory storage, wall ms per trial over",
            "trials 201-300 (median of 5 runs) and trials 4,501-5,000 (one run).",
            "",
            "| trials | " + " | ".join(next(iter(overhead.values()))) + " |",
            "|---|---|---|",
        ]
        for n_trials, values in overhead.items():
            timings = " | ".join(f"{value:.2f}" for value in values.values())
            lines.append(f"| {n_trials} | {timings} |")
        lines.append("")
    if "notes" in record:
        lines += ["## Notes", ""] + [f"- {note}" for note in record["notes"]] + [""]
    return "\n".join(lines)


def build_problems(names: list[str], data_root: Path, cache_dir: Path) -> list[Problem]:
    problems = []
    cifar10_accuracy = _nasbench_columns("cifar10", data_root)[1]
    quantile = float((cifar10_accuracy < 85.0).mean())
    for name in names:
        if name.startswith("nb201-"):
            problems.append(nasbench_problem(name[len("nb201-") :], data_root, quantile))
        elif name == "prune-cnn16-mnist":
            problems.append(pruning_problem(data_root, cache_dir))
        elif name == "zdt1-30":
            problems.append(zdt1_problem())
        elif name == "dtlz2-30":
            problems.append(dtlz2_problem())
        else:
            raise ValueError(f"unknown problem {name!r}; valid: {', '.join(ALL_PROBLEMS)}")
    return problems


NOTES = (
    "NAS-Bench-201: the reference accuracy is 85 % on cifar10 and the accuracy at the same "
    "quantile of all 15,625 cells on cifar100 and ImageNet16-120; the reference latency is the "
    "median FPGA latency of the dataset.",
    "Pruning problem: 16 prunable layers (14 Conv2d, 2 Linear) of a CNN trained for 6 epochs on "
    "4,000 MNIST digits (14 x 14), evaluated on 400 held-out digits after magnitude pruning with "
    "no fine-tuning; sparsity range [0, 0.95] per layer; reference point accuracy 0.5, speedup "
    "1.0. Its NSGA-II sweep ratios are measured against the front pooled over the sweep runs.",
    "ZDT1 and DTLZ2 use wider reference points than the usual 1.1 so that 100 trials of every "
    "sampler score above zero: (1.1, 6.0) and (2.5, 2.5, 2.5).",
    "The uniform profiles of LayerwiseNSGASampler's first generation set all variables to one "
    "value, and such points lie on the Pareto set of ZDT1 (value 0) and DTLZ2 (value 0.5); the "
    "profiles fall at random positions inside strata, so they reach these values only "
    "approximately, but problem 3 favours this design more than real pruning problems do.",
    "ms/trial in the quality tables is wall time on a machine shared with other jobs, objective "
    "included; the overhead table is the dedicated measurement.",
)

ALL_PROBLEMS = (
    "nb201-cifar10",
    "nb201-cifar100",
    "nb201-ImageNet16-120",
    "prune-cnn16-mnist",
    "zdt1-30",
    "dtlz2-30",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--problems", nargs="*", default=list(ALL_PROBLEMS), choices=ALL_PROBLEMS)
    parser.add_argument("--seeds", type=int, default=10, help="seeds per sampler (default 10)")
    parser.add_argument(
        "--sweep-seeds", type=int, default=5, help="seeds per NSGA-II population size in the sweep"
    )
    parser.add_argument("--trials", type=int, default=300, help="trials per run (default 300)")
    parser.add_argument(
        "--overhead",
        action="store_true",
        help="also measure sampling overhead at 300 and 5,000 trials",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO_ROOT / "benchmarks" / "results" / "sampler_quality.json",
        help="JSON record; results of other problems already in it are kept",
    )
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="*",
        default=[],
        help="JSON records of other runs of this script to merge into --output",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "optuna-hwprune-bench",
        help="folder for the trained CNN of the pruning problem",
    )
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    record: dict[str, Any] = {"problems": {}}
    if args.output.is_file():
        record = json.loads(args.output.read_text())
    record.update(
        machine="2-core x86_64 CPU VM, no GPU",
        python=platform.python_version(),
        optuna_version=optuna.__version__,
        n_seeds=args.seeds,
        n_sweep_seeds=args.sweep_seeds,
        command=" ".join(["nice python benchmarks/sampler_quality.py", *(argv or sys.argv[1:])]),
    )

    record["notes"] = list(NOTES)
    for other_path in args.merge:
        other = json.loads(other_path.read_text())
        record["problems"].update(other.get("problems", {}))
        if "overhead_ms_per_trial" in other:
            record["overhead_ms_per_trial"] = other["overhead_ms_per_trial"]
        record.setdefault("merged_commands", []).append(other["command"])

    seeds = list(range(args.seeds))
    sweep_seeds = list(range(100, 100 + args.sweep_seeds))
    for problem in build_problems(args.problems, args.data_root, args.cache_dir):
        start = time.perf_counter()
        result = benchmark_problem(problem, seeds, args.trials, sweep_seeds)
        record["problems"][problem.name] = result
        if problem.name == "prune-cnn16-mnist":
            record["problems"][problem.name]["speedup"] = SPEEDUP_SOURCE
        _logger.info("%s finished in %.0f s", problem.name, time.perf_counter() - start)
        args.output.write_text(json.dumps(record, indent=1))
        args.output.with_suffix(".md").write_text(render_markdown(record))

    if args.overhead:
        _logger.info("measuring sampling overhead at 300 and 5,000 trials")
        record["overhead_ms_per_trial"] = {
            "300": measure_overhead(300, 100, repeats=5),
            "5000": measure_overhead(5000, 500),
        }
        _logger.info("overhead: %s", record["overhead_ms_per_trial"])
    args.output.write_text(json.dumps(record, indent=1))
    args.output.with_suffix(".md").write_text(render_markdown(record))
    print(render_markdown(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
