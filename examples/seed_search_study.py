"""Warm-start an Optuna study with HW-NAS-Bench cells that meet an FPGA latency budget.

The same steps as ``hwprune seed-search``, written out with the library API so that each one
can be changed: describe the dataset, pick the reference, query feasible cells, enqueue the
Pareto seeds, then let a sampler tune cell ops and hyper-parameters.

    python examples/seed_search_study.py --dataset breastmnist --data-root data/medmnist
"""

from __future__ import annotations

import argparse
import logging

import optuna

from optuna_hwprune.datasets import load_dataset
from optuna_hwprune.nasbench import (
    closest_reference,
    describe_dataset,
    enqueue_seeds,
    find_seeds,
    load_table,
    parse_constraints,
)
from optuna_hwprune.nasbench.objective import SeedSearchObjective


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="pathmnist")
    parser.add_argument("--data-root", default=None, help="folder with <flag>.npz (downloaded when missing)")
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)

    train, val, test = (load_dataset(args.dataset, args.data_root, split) for split in ("train", "val", "test"))

    # 1. Which HW-NAS-Bench dataset does the new one resemble?
    descriptor = describe_dataset(train)
    reference, scores = closest_reference(descriptor)
    print(f"{descriptor}\nreference: {reference}, similarity: {scores}")

    # 2. Cells that meet the hardware budget, and four diverse ones from their Pareto front.
    table = load_table()
    constraints = parse_constraints(["fpga_latency<=2.5", "params<=1.1e6"], table, reference)
    seeds = find_seeds(reference, "fpga_latency", 4, constraints, table)
    for seed in seeds:
        print(f"seed {seed.index}: {seed.arch} ({seed.metrics['test_accuracy']:.2f}% on {reference}, {seed.metrics['fpga_latency']:.2f} ms)")

    # 3. Seeds run first, then TPE samples the same space. Infeasible proposals are pruned untrained.
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    enqueue_seeds(study, seeds, max_epochs=args.epochs)
    objective = SeedSearchObjective(train, val, test, reference, constraints, max_epochs=args.epochs, device="auto")
    completed = optuna.study.MaxTrialsCallback(args.trials, states=(optuna.trial.TrialState.COMPLETE,))
    study.optimize(objective, n_trials=50 * args.trials, callbacks=[completed])

    best = study.best_trial
    print(
        f"best: cell {best.user_attrs['index']} {best.user_attrs['arch']}\n"
        f"  val {best.value:.4f}, test {best.user_attrs['test_accuracy']:.4f}, "
        f"{best.user_attrs['params']:,} parameters, {best.user_attrs['bench_fpga_latency']:.2f} ms FPGA latency"
    )


if __name__ == "__main__":
    main()
