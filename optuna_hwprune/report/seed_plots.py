"""Plots of a seed search: Pareto front, parameter comparison, memory against latency."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from optuna_hwprune.nasbench.constraints import feasible_mask, parse_constraints
from optuna_hwprune.nasbench.pareto import DEFAULT_ACCURACY, pareto_front
from optuna_hwprune.nasbench.table import BenchTable, load_table

# ResNet-18 (He et al., 2016) has 11.7 M parameters with its 1000-class ImageNet head.
RESNET18_PARAMS = 11_700_000


def metric_label(metric: str) -> str:
    """Return an axis label with the unit of a table metric."""
    if metric.endswith("_latency"):
        return f"{metric} (ms)"
    if metric.endswith("_energy"):
        return f"{metric} (mJ)"
    if metric == "flops":
        return "MACs per image"
    return metric


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_pareto(summary: Mapping[str, Any], path: str | Path, table: BenchTable | None = None) -> Path:
    """Plot benchmark accuracy against the front metric: all cells, feasible cells, the Pareto
    front, constraint lines on either axis, and the seeds.
    """
    plt = _pyplot()
    table = table if table is not None else load_table()
    reference, metric = summary["reference"], summary["metric"]
    constraints = parse_constraints(summary["constraints"], table, reference)
    cost = table.column(reference, metric)
    accuracy = table.column(reference, DEFAULT_ACCURACY)
    feasible = feasible_mask(table, reference, constraints)
    front = pareto_front(table, reference, metric, constraints)

    figure, axes = plt.subplots(figsize=(7, 5))
    axes.scatter(cost[~feasible], accuracy[~feasible], s=3, color="0.8", label="infeasible cells")
    axes.scatter(cost[feasible], accuracy[feasible], s=4, color="tab:blue", alpha=0.5, label="feasible cells")
    axes.plot(cost[front], accuracy[front], "-o", color="tab:green", markersize=4, label="Pareto front")
    seeds = [seed["index"] for seed in summary["seeds"]]
    axes.scatter(cost[seeds], accuracy[seeds], marker="*", s=160, color="tab:red", zorder=5, label="seeds")
    for constraint in constraints:
        if constraint.metric == metric:
            axes.axvline(constraint.bound, color="tab:red", linestyle="--", label=str(constraint))
        elif constraint.metric == DEFAULT_ACCURACY:
            axes.axhline(constraint.bound, color="tab:red", linestyle=":", label=str(constraint))
    others = [str(c) for c in constraints if c.metric not in (metric, DEFAULT_ACCURACY)]
    title = f"NAS-Bench-201 cells on {reference}"
    if others:
        title += " (also " + ", ".join(others) + ")"
    axes.set_title(title)
    axes.set_xlabel(metric_label(metric))
    axes.set_ylabel(f"{reference} test accuracy (%)")
    axes.set_ylim(bottom=max(0.0, float(np.nanmin(accuracy[feasible])) - 5))
    axes.legend(loc="lower right", fontsize=8)
    return _save(figure, path)


def plot_parameters(summary: Mapping[str, Any], path: str | Path) -> Path:
    """Plot the parameter count of the seeds and the best trial against ResNet-18."""
    plt = _pyplot()
    from optuna_hwprune.nasbench.network import CellNetwork, count_parameters

    descriptor = summary["descriptor"]
    labels, values = [], []
    for seed in summary["seeds"]:
        model = CellNetwork(seed["arch"], descriptor["num_classes"], in_channels=descriptor["channels"])
        labels.append(f"seed {seed['index']}")
        values.append(count_parameters(model))
    best = summary.get("best_trial")
    if best is not None:
        labels.append(f"best (trial {best['number']})")
        values.append(best["num_parameters"])
    labels.append("ResNet-18")
    values.append(RESNET18_PARAMS)

    figure, axes = plt.subplots(figsize=(7, 4))
    colors = ["tab:blue"] * len(summary["seeds"]) + (["tab:green"] if best else []) + ["tab:gray"]
    bars = axes.barh(labels, np.array(values) / 1e6, color=colors)
    axes.bar_label(bars, labels=[f"{value / 1e6:.2f} M" for value in values], fontsize=8, padding=2)
    axes.set_xlabel("parameters (millions)")
    axes.set_title(f"Cell networks for {summary['dataset']} against ResNet-18")
    axes.set_xlim(0, RESNET18_PARAMS / 1e6 * 1.15)
    return _save(figure, path)


def plot_memory_latency(summary: Mapping[str, Any], path: str | Path) -> Path:
    """Plot estimated inference memory (weights plus peak activations) against the front
    metric for the seeds and the best trial.
    """
    plt = _pyplot()
    from optuna_hwprune.nasbench.network import CellNetwork, estimate_memory_bytes

    descriptor, metric = summary["descriptor"], summary["metric"]
    side = int(round(descriptor["resolution"]))
    shape = (descriptor["channels"], side, side)

    def memory_of(arch: str) -> dict[str, int]:
        model = CellNetwork(arch, descriptor["num_classes"], in_channels=descriptor["channels"])
        return estimate_memory_bytes(model, shape)

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for seed in summary["seeds"]:
        memory = memory_of(seed["arch"])
        axes.scatter(seed[metric], memory["total"] / 1e6, marker="*", s=140, color="tab:red")
        axes.annotate(f"seed {seed['index']}", (seed[metric], memory["total"] / 1e6), fontsize=8)
    best = summary.get("best_trial")
    if best is not None:
        memory = memory_of(best["arch"])
        axes.scatter(best["bench"][metric], memory["total"] / 1e6, marker="o", s=90, color="tab:green", label="best trial")
        axes.annotate(
            f"best: cell {best['index']}",
            (best["bench"][metric], memory["total"] / 1e6),
            xytext=(0, -14),
            textcoords="offset points",
            fontsize=8,
        )
        axes.legend(loc="upper left", fontsize=8)
    axes.set_xlabel(f"{metric_label(metric)} on {summary['reference']}")
    axes.set_ylabel(f"memory for one {side}x{side} image (MB, float32)")
    axes.set_title("Weights plus peak activations (estimate) against latency")
    return _save(figure, path)


def plot_seed_search(summary: Mapping[str, Any], out_dir: str | Path, table: BenchTable | None = None) -> list[Path]:
    """Write the three seed-search plots as PNG files into ``out_dir`` and return their paths."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        plot_pareto(summary, folder / "pareto_front.png", table),
        plot_parameters(summary, folder / "parameters.png"),
        plot_memory_latency(summary, folder / "memory_latency.png"),
    ]


def _save(figure, path: str | Path) -> Path:
    path = Path(path)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return path
