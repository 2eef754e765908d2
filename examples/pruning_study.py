"""Prune a CIFAR-10 ResNet-20 layer by layer with an Optuna study.

The three components are ordinary Optuna pieces: ``PruningObjective`` is the objective,
``LayerwiseNSGASampler`` the sampler, and ``FPGAEstimator`` supplies the speedup objective.

    python examples/pruning_study.py --data-root data/cifar10

Without ``--checkpoint``, the script trains the dense model for one epoch first (a few minutes on
a CPU). The speedups are estimates from an analytical FPGA model, not measurements.
"""

from __future__ import annotations

import argparse

import optuna
import torch

from optuna_hwprune.datasets import load_dataset
from optuna_hwprune.hardware import FPGAEstimator
from optuna_hwprune.pruning import PruningObjective, build_model, load_dense_checkpoint, train_dense
from optuna_hwprune.samplers import LayerwiseNSGASampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default="data/cifar10", help="CIFAR-10 folder (downloaded when missing)")
    parser.add_argument("--checkpoint", help="dense ResNet-20 checkpoint written by hwprune prune")
    parser.add_argument("--trials", type=int, default=16)
    args = parser.parse_args()

    train = load_dataset("cifar10", args.data_root, "train")
    val = load_dataset("cifar10", args.data_root, "val").subset(1000, seed=0)

    if args.checkpoint:
        model, _ = load_dense_checkpoint(args.checkpoint, "resnet20", num_classes=10)
    else:
        torch.manual_seed(0)
        model = build_model("resnet20", num_classes=10)
        train_dense(model, train, epochs=1)

    objective = PruningObjective(
        model,
        train.subset(5000, seed=0),
        val,
        estimator=FPGAEstimator(),
        sparsity_range=(0.0, 0.9),
        finetune_steps=20,
    )
    study = optuna.create_study(
        directions=list(objective.directions),
        sampler=LayerwiseNSGASampler(population_size=8, seed=0),
    )
    study.set_metric_names(list(objective.metric_names))
    study.optimize(objective, n_trials=args.trials)

    print(f"dense model: estimated latency {objective.dense_estimate.latency_ms:.3f} ms")
    for trial in sorted(study.best_trials, key=lambda trial: trial.values[1]):
        accuracy, speedup = trial.values
        print(
            f"trial {trial.number:2d}: validation accuracy {100 * accuracy:.2f}%, "
            f"estimated speedup {speedup:.2f}x, {trial.user_attrs['nonzero_params']:,} non-zero parameters"
        )


if __name__ == "__main__":
    main()
