"""``hwprune seed-search``: warm-start an Optuna study from HW-NAS-Bench on a new dataset."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from optuna_hwprune.commands._common import check_storage, check_study_options, non_negative_int, positive_int
from optuna_hwprune.nasbench.search import SAMPLERS

_logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``seed-search`` to the ``hwprune`` parser."""
    parser = subparsers.add_parser(
        "seed-search",
        help="tune a NAS-Bench-201 cell network on a dataset, warm-started from HW-NAS-Bench",
        description=(
            "Pick the HW-NAS-Bench reference dataset most similar to DATASET, enqueue diverse "
            "Pareto-optimal cells that meet the constraints into an Optuna study, then tune cell "
            "ops and training hyper-parameters on DATASET."
        ),
    )
    parser.add_argument("--dataset", default="pathmnist", help="cifar10 or a 2D MedMNIST flag (default: pathmnist)")
    parser.add_argument("--data-root", type=Path, help="folder holding the dataset (default: ./data/<dataset>)")
    parser.add_argument(
        "--constraint",
        action="append",
        default=[],
        metavar="METRIC<=VALUE",
        help="bound on a benchmark metric of the reference dataset (<=, >=, <, >); repeat for several",
    )

    parser.add_argument("--metric", help="hardware metric of the Pareto front (default: the first constrained one)")
    parser.add_argument(
        "--table",
        type=Path,
        help="HW-NAS-Bench-v1_0.pickle or a compiled .npz table (default: the bundled table)",
    )

    parser.add_argument("--seeds", type=non_negative_int, default=4, help="number of seed cells to enqueue (default: 4)")
    parser.add_argument("--trials", type=positive_int, default=8, help="number of trained trials, seeds included (default: 8)")
    parser.add_argument("--epochs", type=positive_int, default=3, help="maximum training epochs per trial (default: 3)")
    parser.add_argument("--train-subset", type=positive_int, help="train on a stratified subset of this many images")

    parser.add_argument("--reference", help="reference dataset (default: chosen by similarity)")
    parser.add_argument("--sampler", choices=SAMPLERS, default="auto", help="sampler for non-seed trials")
    parser.add_argument("--no-warm-start", action="store_true", help="do not enqueue the seeds (cold start)")

    parser.add_argument("--storage", default="sqlite:///hwprune.db", help="Optuna storage URL")
    parser.add_argument("--study", default="seed-search", help="study name; an existing study is continued")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="training device")

    parser.add_argument("--json", type=Path, help="write the summary to this JSON file")
    parser.add_argument("--plots", type=Path, help="write PNG plots into this folder")
    parser.add_argument(
        "--artifact-dir",
        type=Path,
        help="also upload the plots as optuna-dashboard artifacts into this folder",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the seed search and report the result."""
    from optuna.trial import TrialState
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from optuna_hwprune.nasbench.search import run_seed_search
    from optuna_hwprune.nasbench.table import load_table

    if args.artifact_dir is not None and args.plots is None:
        raise ValueError("--artifact-dir uploads the plots, so it needs --plots DIR as well")
    check_storage(args.storage)
    check_study_options(args.storage, args.study, 1, {})
    table = load_table(args.table)
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("seed search"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )
    task = progress.add_task("trials", total=args.trials)

    def advance(study, trial) -> None:
        if trial.state == TrialState.COMPLETE:
            progress.advance(task)

    with progress:
        study, summary = run_seed_search(
            args.dataset,
            data_root=args.data_root,
            constraints=args.constraint,
            metric=args.metric,
            n_seeds=args.seeds,
            n_trials=args.trials,
            max_epochs=args.epochs,
            storage=args.storage,
            study_name=args.study,
            seed=args.seed,
            device=args.device,
            sampler=args.sampler,
            reference=args.reference,
            warm_start=not args.no_warm_start,
            train_subset=args.train_subset,
            table=table,
            callbacks=[advance],
        )

    if args.plots is not None:
        from optuna_hwprune.report.seed_plots import plot_seed_search

        paths = plot_seed_search(summary, args.plots, table)
        summary["plots"] = [str(path) for path in paths]
        if args.artifact_dir is not None:
            from optuna_hwprune.report.artifacts import upload_plots

            summary["artifacts"] = upload_plots(study, paths, args.artifact_dir)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")

    _print_summary(Console(), summary)
    return 0


def _print_summary(console, summary: dict) -> None:
    from rich.table import Table

    scores = ", ".join(f"{name} {score:.3f}" for name, score in summary["similarity"].items())
    console.print(f"reference dataset: [bold]{summary['reference']}[/bold] (similarity: {scores})")
    console.print(f"constraints: {', '.join(summary['constraints']) or 'none'}; {summary['feasible_cells']} feasible cells")

    view = Table(title=f"study {summary['study_name']}")
    for column in ("trial", "source", "cell", "val acc", "test acc", "params", summary["metric"]):
        view.add_column(column, justify="right")
    for trial in summary["trials"]:
        if trial["state"] != "COMPLETE":
            continue
        view.add_row(
            str(trial["number"]),
            "seed" if trial["seed"] else "sampler",
            str(trial["index"]),
            f"{trial['val_accuracy']:.4f}",
            f"{trial['test_accuracy']:.4f}",
            f"{trial['num_parameters']:,}",
            f"{trial['bench'][summary['metric']]:.3f}",
        )
    console.print(view)
    best = summary["best_trial"]
    if best is not None:
        console.print(
            f"best: trial {best['number']}, cell {best['index']} {best['arch']}, "
            f"val {best['val_accuracy']:.4f}, test {best['test_accuracy']:.4f}, "
            f"{best['num_parameters']:,} parameters"
        )
