"""Per-layer sparsities of a toy 12-layer network: accuracy proxy against speedup proxy."""

from __future__ import annotations

import optuna
import optunahub

module = optunahub.load_module(package="samplers/layerwise_nsga")
N_LAYERS = 12


def objective(trial: optuna.Trial) -> tuple[float, float]:
    sparsity = [trial.suggest_float(f"sparsity_layer{i}", 0.0, 0.95) for i in range(N_LAYERS)]
    # Later layers tolerate more pruning; the first layers are the most sensitive.
    loss = sum(s**2 * (N_LAYERS - i) / N_LAYERS for i, s in enumerate(sparsity))
    density = sum(1.0 - s for s in sparsity) / N_LAYERS
    return 1.0 - loss / N_LAYERS, 1.0 / density


if __name__ == "__main__":
    sampler = module.LayerwiseNSGASampler(seed=0)
    study = optuna.create_study(directions=["maximize", "maximize"], sampler=sampler)
    study.optimize(objective, n_trials=100)
    print(f"{len(study.best_trials)} Pareto-optimal trials")
