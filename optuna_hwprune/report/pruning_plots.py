"""Plots of a pruning study: the Pareto front and the per-layer sparsities of front trials."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from optuna_hwprune.pruning import sparsity_param

PARETO_PLOT = "pareto_front.png"
SPARSITY_PLOT = "front_sparsity.png"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _values(trials: Sequence[FrozenTrial]) -> tuple[np.ndarray, np.ndarray]:
    speedup = np.array([trial.values[1] for trial in trials], dtype=float)
    accuracy = np.array([trial.values[0] for trial in trials], dtype=float)
    return speedup, accuracy


def plot_pruning_front(
    study: optuna.Study,
    dense_accuracy: float,
    path: str | Path,
) -> Path:
    """Plot validation accuracy against estimated speedup for every completed trial.

    The Pareto front is drawn as a step line and the dense model as a star at speedup 1.0.

    Args:
        study: A study of :class:`~optuna_hwprune.pruning.PruningObjective` trials.
        dense_accuracy: Validation accuracy of the dense model on the same images.
        path: PNG file to write.

    Returns:
        The path written.
    """
    plt = _pyplot()
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    front = sorted(study.best_trials, key=lambda trial: trial.values[1])

    figure, axes = plt.subplots(figsize=(6.4, 4.4))
    if trials:
        speedup, accuracy = _values(trials)
        axes.scatter(speedup, 100 * accuracy, s=18, color="0.6", label="trials")
    if front:
        speedup, accuracy = _values(front)
        axes.step(speedup, 100 * accuracy, where="post", color="tab:blue", linewidth=1)
        axes.scatter(speedup, 100 * accuracy, s=30, color="tab:blue", label="Pareto front")
    axes.scatter([1.0], [100 * dense_accuracy], marker="*", s=160, color="tab:red", label="dense model")
    axes.set_xlabel("estimated FPGA speedup (dense latency / pruned latency)")
    axes.set_ylabel("validation accuracy (%)")
    axes.set_title(f"{study.study_name}: accuracy against estimated speedup")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    return _save(figure, path)


def choose_front_trials(front: Sequence[FrozenTrial], count: int = 5) -> list[FrozenTrial]:
    """Pick up to ``count`` Pareto-front trials spread evenly along the speedup axis."""
    ordered = sorted(front, key=lambda trial: trial.values[1])
    if len(ordered) <= count:
        return ordered
    positions = np.linspace(0, len(ordered) - 1, count).round().astype(int)
    return [ordered[i] for i in sorted(set(positions.tolist()))]


def plot_front_sparsity(
    study: optuna.Study,
    layer_names: Sequence[str],
    path: str | Path,
    count: int = 5,
) -> Path:
    """Plot the per-layer sparsity of chosen Pareto-front trials, one line per trial.

    Args:
        study: A study of :class:`~optuna_hwprune.pruning.PruningObjective` trials.
        layer_names: Layers on the x axis, in model order.
        path: PNG file to write.
        count: Number of front trials to show, spread along the speedup axis.

    Returns:
        The path written.
    """
    plt = _pyplot()
    chosen = choose_front_trials(study.best_trials, count)

    figure, axes = plt.subplots(figsize=(max(6.4, 0.28 * len(layer_names) + 2), 4.4))
    positions = np.arange(len(layer_names))
    for trial in chosen:
        sparsity = [trial.params.get(sparsity_param(name), 0.0) for name in layer_names]
        accuracy, speedup = trial.values
        axes.plot(
            positions, sparsity, marker="o", markersize=3,
            label=f"#{trial.number}: {100 * accuracy:.1f}% at {speedup:.2f}x",
        )
    axes.set_xticks(positions, layer_names, rotation=90, fontsize=7)
    axes.set_ylim(0, 1)
    axes.set_ylabel("requested sparsity")
    axes.set_title("per-layer sparsity of Pareto-front trials")
    axes.grid(alpha=0.3)
    if chosen:
        axes.legend(fontsize=8, loc="upper left")
    return _save(figure, path)


def write_pruning_plots(
    study: optuna.Study,
    dense_accuracy: float,
    layer_names: Sequence[str],
    folder: str | Path,
) -> list[Path]:
    """Write the Pareto-front plot and the front-sparsity plot into ``folder``.

    Returns:
        The two PNG paths.
    """
    folder = Path(folder)
    return [
        plot_pruning_front(study, dense_accuracy, folder / PARETO_PLOT),
        plot_front_sparsity(study, layer_names, folder / SPARSITY_PLOT),
    ]


def _save(figure, path: str | Path) -> Path:
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    _pyplot().close(figure)
    return path
