"""What the HW-NAS-Bench warm start buys, against the same sampler started cold.

Part (a) runs on the NAS-Bench-201 table itself. The "new" dataset is CIFAR-100 or
ImageNet16-120, and seeds come from the CIFAR-10 Pareto front (the reference a user would pick).
The objective of a trial is the cell's 200-epoch test accuracy on the new dataset under a
hardware constraint. Cells that violate it are pruned without evaluation, as in
``SeedSearchObjective``. Reported: trained (completed) trials until the best value is within
0.5 points of the best feasible accuracy, medians over seeds; a run that never gets there
counts as the budget plus one.

Part (b), on BreastMNIST: best test accuracy after 12 trained trials (the test accuracy of the
trial with the best validation accuracy), next to the MedMNIST v2 ResNet-18 (28) test accuracy
of 0.863 from the MedMNIST v2 benchmark (Yang et al., Scientific Data 2023). It compares three
starts: warm, cold, and cold with the seed hyper-parameters enqueued.

Usage::

    python benchmarks/warm_start.py --data-root ../shared/data --seeds 10 --breast-seeds 3
    python benchmarks/warm_start.py --data-root ../shared/data --keep-table --breast-seeds 5
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from optuna_hwprune.nasbench.constraints import feasible_mask, parse_constraints
from optuna_hwprune.nasbench.objective import DEFAULT_HYPERPARAMETERS, record_constraints, suggest_arch
from optuna_hwprune.nasbench.search import create_sampler, run_seed_search
from optuna_hwprune.nasbench.seeds import enqueue_seeds, find_seeds
from optuna_hwprune.nasbench.space import arch_to_index
from optuna_hwprune.nasbench.table import load_table

RESULTS = Path(__file__).resolve().parent / "results"
TOLERANCE = 0.5
RESNET18_BREASTMNIST = 0.863

# (new dataset, constraint, hardware metric of the CIFAR-10 front the seeds come from). The
# constraint bounds the new dataset's figures when trials run and CIFAR-10's when seeds are picked.
SCENARIOS = (
    ("cifar100", "fpga_latency<=3.0", "fpga_latency"),
    ("ImageNet16-120", "params<=6e5", "fpga_latency"),
)


def _table_objective(table, dataset: str, constraints):
    def objective(trial: optuna.trial.Trial) -> float:
        index = arch_to_index(suggest_arch(trial))
        record = table.query(index, dataset)
        values = record_constraints(trial, record, constraints)
        if any(value > 0 for value in values):
            raise optuna.TrialPruned()
        return float(record["test_accuracy"])

    return objective


def trials_to_target(study: optuna.Study, target: float) -> tuple[int | None, int]:
    """Return the completed-trial count at which the best value first reaches ``target``, and
    the total number of proposals (pruned infeasible ones included) up to then.
    """
    completed = 0
    for proposals, trial in enumerate(study.trials, start=1):
        if trial.state != TrialState.COMPLETE:
            continue
        completed += 1
        if trial.value >= target:
            return completed, proposals
    return None, len(study.trials)


def run_table_part(seeds: int, budget: int, n_seed_cells: int, samplers: list[str]) -> list[dict[str, Any]]:
    """Run part (a) and return one row per scenario, sampler and start."""
    table = load_table()
    rows = []
    for dataset, constraint_text, front_metric in SCENARIOS:
        constraints = parse_constraints([constraint_text], table, dataset)
        feasible = feasible_mask(table, dataset, constraints)
        best = float(np.nanmax(table.column(dataset, "test_accuracy")[feasible]))
        target = best - TOLERANCE
        seed_constraints = parse_constraints([constraint_text], table, "cifar10")
        seed_cells = find_seeds("cifar10", front_metric, n_seed_cells, seed_constraints, table)
        for sampler_name in samplers:
            for warm in (True, False):
                counts, proposals, seconds = [], [], []
                for seed in range(seeds):
                    study = optuna.create_study(
                        direction="maximize",
                        sampler=create_sampler(sampler_name, seed, population_size=max(4, n_seed_cells)),
                    )
                    if warm:
                        enqueue_seeds(study, seed_cells, max_epochs=1)
                    start = time.perf_counter()
                    objective = _table_objective(table, dataset, constraints)
                    completed = 0

                    def stop(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
                        nonlocal completed
                        completed += trial.state == TrialState.COMPLETE
                        if completed >= budget or (trial.value is not None and trial.value >= target):
                            study.stop()

                    study.optimize(objective, n_trials=budget * 50, callbacks=[stop])
                    seconds.append(time.perf_counter() - start)
                    count, proposed = trials_to_target(study, target)
                    counts.append(count if count is not None else budget + 1)
                    proposals.append(proposed)
                rows.append(
                    {
                        "dataset": dataset,
                        "constraint": constraint_text,
                        "feasible_cells": int(feasible.sum()),
                        "best_feasible_accuracy": best,
                        "sampler": sampler_name,
                        "start": "warm" if warm else "cold",
                        "median_trials": statistics.median(counts),
                        "median_proposals": statistics.median(proposals),
                        "reached": sum(count <= budget for count in counts),
                        "runs": seeds,
                        "trials": counts,
                        "median_seconds": statistics.median(seconds),
                    }
                )
                logging.info("%s", rows[-1])
    return rows


BREAST_STARTS = ("warm", "cold", "cold, seed hyper-parameters")


def _breast_storage(start: str, n_seeds: int, epochs: int) -> optuna.storages.BaseStorage:
    # The third start enqueues the seed hyper-parameters without cells, and the sampler picks the
    # cells. This separates what the seed cells add from what the seed hyper-parameters add.
    storage = optuna.storages.InMemoryStorage()
    if start == "cold, seed hyper-parameters":
        study = optuna.create_study(storage=storage, study_name="breast", direction="maximize")
        for _ in range(n_seeds):
            study.enqueue_trial({**DEFAULT_HYPERPARAMETERS, "epochs": epochs}, user_attrs={"source": "hyperparameters"})
    return storage


def run_breast_part(data_root: Path, seeds: int, trials: int, epochs: int, sampler: str) -> list[dict[str, Any]]:
    """Run part (b) and return one row per start with per-seed results."""
    rows = []
    for start_name in BREAST_STARTS:
        results = []
        for seed in range(seeds):
            start = time.perf_counter()
            _, summary = run_seed_search(
                "breastmnist",
                data_root=data_root / "medmnist",
                constraints=["fpga_latency<=2.5", "params<=1.1e6"],
                n_seeds=4,
                n_trials=trials,
                max_epochs=epochs,
                storage=_breast_storage(start_name, 4, epochs),
                study_name="breast",
                seed=seed,
                device="cpu",
                sampler=sampler,
                warm_start=start_name == "warm",
                download=False,
            )
            best = summary["best_trial"]
            completed = [t for t in summary["trials"] if t["state"] == "COMPLETE"]
            results.append(
                {
                    "seed": seed,
                    "best_val_accuracy": best["val_accuracy"],
                    "test_accuracy_of_best": best["test_accuracy"],
                    "max_test_accuracy": max(t["test_accuracy"] for t in completed),
                    "best_cell": best["index"],
                    "best_parameters": best["num_parameters"],
                    "seconds": time.perf_counter() - start,
                }
            )
            logging.info("breastmnist %s seed %d: %s", start_name, seed, results[-1])
        rows.append(
            {
                "start": start_name,
                "median_test_accuracy_of_best": statistics.median(r["test_accuracy_of_best"] for r in results),
                "median_max_test_accuracy": statistics.median(r["max_test_accuracy"] for r in results),
                "median_best_parameters": statistics.median(r["best_parameters"] for r in results),
                "runs": results,
            }
        )
    return rows


def write_markdown(record: dict[str, Any], path: Path) -> None:
    """Write the results of ``record`` as Markdown tables to ``path``."""
    lines = [
        "# Warm start from HW-NAS-Bench against a cold start",
        "",
        f"Machine: {record['machine']}. Command: `{record['command']}`.",
        "",
        *(
            [f"Part (a) comes from an earlier run of `{record['table_command']}`.", ""]
            if "table_command" in record
            else []
        ),
        "## (a) NAS-Bench-201 table: trials to reach the best feasible accuracy minus 0.5 points",
        "",
        f"Warm runs first enqueue {record['table']['seed_cells']} cells from the CIFAR-10 Pareto front under the same bound",
        "(the reference a user would pick). Objective: 200-epoch test accuracy on the new dataset.",
        f"Random seeds per row: {record['table']['seeds']}; budget {record['table']['budget']} trained trials"
        " (a run that misses counts as budget + 1).",
        "Proposals include infeasible cells, which are pruned without evaluation.",
        "",
        "| new dataset | constraint | feasible cells | best feasible (%) | sampler | start | median trials | median proposals | reached |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in record["table"]["rows"]:
        lines.append(
            f"| {row['dataset']} | `{row['constraint']}` | {row['feasible_cells']} | "
            f"{row['best_feasible_accuracy']:.2f} | {row['sampler']} | {row['start']} | "
            f"{row['median_trials']:g} | {row['median_proposals']:g} | {row['reached']}/{row['runs']} |"
        )
    breast = record.get("breastmnist")
    if breast:
        lines += [
            "",
            f"## (b) BreastMNIST: best test accuracy after {breast['trials']} trained trials",
            "",
            f"Constraints `fpga_latency<=2.5`, `params<=1.1e6` (CIFAR-10 figures), up to {breast['epochs']} epochs",
            f"per trial on the 546 training images, sampler {breast['sampler']}, random seeds per row: {breast['seeds']}.",
            "Test accuracy is that of the trial with the best validation accuracy.",
            "Warm runs start with the 4 seed cells and the seed hyper-parameters, and cold runs sample both.",
            "The third row enqueues the seed hyper-parameters 4 times and lets the sampler pick the cells,",
            "which separates what the seed cells add from what the seed hyper-parameters add.",
            f"Other jobs shared the VM during the run (1-minute load average {record['load_average_at_start']:.1f} at the start",
            f"and {record['load_average_at_end']:.1f} at the end, on 2 cores), so run times are only indicative.",
            f"Reference: MedMNIST v2 ResNet-18 (28) test accuracy {RESNET18_BREASTMNIST} (Yang et al., 2023).",
            "",
            "| start | median test accuracy | median max test accuracy | median parameters | per seed (test acc of best) |",
            "|---|---|---|---|---|",
        ]
        for row in breast["rows"]:
            per_seed = ", ".join(f"{r['test_accuracy_of_best']:.3f}" for r in row["runs"])
            lines.append(
                f"| {row['start']} | {row['median_test_accuracy_of_best']:.3f} | "
                f"{row['median_max_test_accuracy']:.3f} | {row['median_best_parameters']:,.0f} | {per_seed} |"
            )
        lines.append(f"| ResNet-18 (28), MedMNIST v2 | {RESNET18_BREASTMNIST} | | about 11 M | |")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--seeds", type=int, default=10, help="random seeds per row of part (a)")
    parser.add_argument("--budget", type=int, default=200, help="trained trials per run of part (a)")
    parser.add_argument("--seed-cells", type=int, default=4, help="cells enqueued by the warm start")
    parser.add_argument("--samplers", default="nsga,tpe", help="comma-separated samplers of part (a)")
    parser.add_argument("--breast-seeds", type=int, default=3, help="random seeds per row of part (b); 0 skips it")
    parser.add_argument("--breast-trials", type=int, default=12)
    parser.add_argument("--breast-epochs", type=int, default=3)
    parser.add_argument("--breast-sampler", default="auto")
    parser.add_argument(
        "--keep-table",
        action="store_true",
        help="reuse part (a) from the existing results JSON (it does not train) and rerun part (b)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    import torch

    torch.set_num_threads(2)

    record: dict[str, Any] = {
        "machine": f"2-core x86_64 CPU VM, no GPU ({platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}, optuna {optuna.__version__})",
        "command": "python " + " ".join(sys.argv),
        "load_average_at_start": os.getloadavg()[0],
    }
    samplers = [name.strip() for name in args.samplers.split(",") if name.strip()]
    if args.keep_table:
        previous = json.loads((RESULTS / "warm_start.json").read_text())
        record["table"] = previous["table"]
        record["table_command"] = previous.get("table_command", previous["command"])
    else:
        record["table"] = {
            "seeds": args.seeds,
            "budget": args.budget,
            "seed_cells": args.seed_cells,
            "tolerance": TOLERANCE,
            "rows": run_table_part(args.seeds, args.budget, args.seed_cells, samplers),
        }
    if args.breast_seeds > 0:
        record["breastmnist"] = {
            "seeds": args.breast_seeds,
            "trials": args.breast_trials,
            "epochs": args.breast_epochs,
            "sampler": args.breast_sampler,
            "resnet18_test_accuracy": RESNET18_BREASTMNIST,
            "rows": run_breast_part(args.data_root, args.breast_seeds, args.breast_trials, args.breast_epochs, args.breast_sampler),
        }

    record["load_average_at_end"] = os.getloadavg()[0]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "warm_start.json").write_text(json.dumps(record, indent=2) + "\n")
    write_markdown(record, RESULTS / "warm_start.md")
    print((RESULTS / "warm_start.md").read_text())


if __name__ == "__main__":
    main()
