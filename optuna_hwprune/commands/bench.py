"""``hwprune bench``: query the bundled HW-NAS-Bench / NAS-Bench-201 table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from optuna_hwprune.nasbench.table import DATASETS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bench query`` and ``bench front`` to the ``hwprune`` parser."""
    parser = subparsers.add_parser(
        "bench",
        help="query NAS-Bench-201 cells and their HW-NAS-Bench hardware figures",
        description="Query NAS-Bench-201 cells and their HW-NAS-Bench hardware figures.",
    )
    actions = parser.add_subparsers(dest="bench_command", metavar="ACTION", required=True)

    query = actions.add_parser("query", help="every metric of one cell")
    _add_common(query)
    target = query.add_mutually_exclusive_group(required=True)
    target.add_argument("--index", type=int, help="NAS-Bench-201 index, 0..15624")
    target.add_argument("--arch", help="NAS-Bench-201 arch string, e.g. '|nor_conv_3x3~0|+|...'")
    query.set_defaults(func=run_query)

    front = actions.add_parser("front", help="Pareto front of accuracy against a hardware metric")
    _add_common(front)
    front.add_argument("--metric", default="fpga_latency", help="metric to minimise (default: fpga_latency)")
    front.add_argument(
        "--constraint",
        action="append",
        default=[],
        metavar="METRIC<=VALUE",
        help="bound on a metric (<=, >=, <, >); repeat for several",
    )
    front.add_argument("--seeds", type=int, default=0, help="also pick this many diverse seeds")
    front.set_defaults(func=run_front)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="cifar10", help=f"reference dataset: {', '.join(DATASETS)}")
    parser.add_argument(
        "--table",
        type=Path,
        help="HW-NAS-Bench-v1_0.pickle or a compiled .npz table (default: the bundled table)",
    )
    parser.add_argument("--json", type=Path, help="write the result to this JSON file")


def _write(result: dict[str, Any], path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")


def run_query(args: argparse.Namespace) -> int:
    """Print every metric of one cell and optionally write them as JSON."""
    from rich.console import Console
    from rich.table import Table

    from optuna_hwprune.nasbench.table import load_table

    table = load_table(args.table)
    record = table.query(args.index if args.index is not None else args.arch, args.dataset)

    view = Table(title=f"cell {record['index']} on {record['dataset']}")
    view.add_column("metric")
    view.add_column("value", justify="right")
    for key, value in record.items():
        view.add_row(key, "missing" if value is None else str(value))
    Console().print(view)
    _write(record, args.json)
    return 0


def run_front(args: argparse.Namespace) -> int:
    """Print the Pareto front under the constraints and optionally write it as JSON."""
    from rich.console import Console
    from rich.table import Table

    from optuna_hwprune.nasbench.constraints import feasible_mask, parse_constraints
    from optuna_hwprune.nasbench.pareto import pareto_front
    from optuna_hwprune.nasbench.seeds import find_seeds
    from optuna_hwprune.nasbench.table import load_table, normalize_dataset

    table = load_table(args.table)
    dataset = normalize_dataset(args.dataset)
    table.column(dataset, args.metric)
    constraints = parse_constraints(args.constraint, table, dataset)
    feasible = feasible_mask(table, dataset, constraints)
    front = [table.query(int(index), dataset) for index in pareto_front(table, dataset, args.metric, constraints)]
    seeds = find_seeds(dataset, args.metric, args.seeds, constraints, table) if args.seeds else []

    view = Table(title=f"Pareto front on {dataset}: test accuracy against {args.metric}")
    for column in ("index", "arch", "test_accuracy", args.metric, "params"):
        view.add_column(column)
    for record in front:
        view.add_row(*(str(record[column]) for column in ("index", "arch", "test_accuracy", args.metric, "params")))
    console = Console()
    console.print(view)
    console.print(f"{int(feasible.sum())} feasible cells, {len(front)} on the front")

    _write(
        {
            "dataset": dataset,
            "metric": args.metric,
            "constraints": [str(c) for c in constraints],
            "feasible_cells": int(feasible.sum()),
            "front": front,
            "seeds": [seed.to_dict() for seed in seeds],
        },
        args.json,
    )
    return 0
