"""Compile the bundled NAS-Bench-201 / HW-NAS-Bench table from the benchmark's CSV exports.

Reads, under ``--data-root`` (default ``../shared/data`` from the repository root):

- ``hw-nas-bench/hw_{cifar10,cifar100,ImageNet16-120}.csv``: HW-NAS-Bench metrics, one row per
  NAS-Bench-201 index, ``net`` = op ids over edges (1<-0, 2<-0, 3<-0, 2<-1, 3<-1, 3<-2);
- ``nas-bench-201/nb201_test_accuracy.csv``: 200-epoch test accuracies and arch strings;
- ``nas-bench-201/nb201_cifar10_valid.csv``: the ``cifar10-valid`` validation accuracies.

Parameter counts and MACs are computed by building the C=16, N=5 cell network in torch. Both
depend only on how many 3x3 and 1x1 convolutions a cell has (the other operations carry no
weights), so one network per (count, dataset) combination is enough.

Writes ``optuna_hwprune/nasbench/data/nasbench201_hw.npz`` and copies the licence notices.

Usage::

    python scripts/compile_nasbench_table.py --data-root ../shared/data
"""

from __future__ import annotations

import argparse
import csv
import logging
import shutil
from pathlib import Path

import numpy as np
import torch

from optuna_hwprune.nasbench.network import CellNetwork, count_macs, count_parameters
from optuna_hwprune.nasbench.space import EDGES, NUM_ARCHS, OPS, arch_to_ops, ops_to_arch
from optuna_hwprune.nasbench.table import DATASET_SHAPES, DATASETS, HW_METRICS

_logger = logging.getLogger("compile_nasbench_table")

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT = REPO_ROOT / "optuna_hwprune" / "nasbench" / "data" / "nasbench201_hw.npz"

# Edge order of HW-NAS-Bench's ``net`` tuples, as (target, source) pairs.
_CSV_EDGES = ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2))
_ACCURACY_COLUMNS = {
    "cifar10": "CIFAR10TestAccuracy200Epochs",
    "cifar100": "CIFAR100TestAccuracy200Epochs",
    "ImageNet16-120": "ImageNetTestAccuracy200Epochs",
}


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise FileNotFoundError(f"benchmark file not found: {path}")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if len(rows) != NUM_ARCHS:
        raise ValueError(f"{path} has {len(rows)} rows, expected {NUM_ARCHS}")
    return rows


def _net_to_ops(net: str) -> tuple[str, ...]:
    codes = [int(value) for value in net.strip("()").split(",")]
    by_edge = {edge: OPS[code] for edge, code in zip(_CSV_EDGES, codes)}
    return tuple(by_edge[edge] for edge in EDGES)


def compile_table(data_root: Path) -> dict[str, np.ndarray]:
    """Read the CSV exports under ``data_root`` and return the arrays of the bundled table."""
    accuracy_rows = _read_csv(data_root / "nas-bench-201" / "nb201_test_accuracy.csv")
    ops = [arch_to_ops(row["ArchitectureString"]) for row in accuracy_rows]
    arrays: dict[str, np.ndarray] = {
        "ops": np.array([[OPS.index(op) for op in cell] for cell in ops], dtype=np.uint8)
    }

    unique_strings: dict[str, int] = {}
    arrays["unique_id"] = np.array(
        [unique_strings.setdefault(row["UniqueString"], len(unique_strings)) for row in accuracy_rows],
        dtype=np.int32,
    )

    for dataset in DATASETS:
        hw_rows = _read_csv(data_root / "hw-nas-bench" / f"hw_{dataset}.csv")
        for index, row in enumerate(hw_rows):
            if _net_to_ops(row["net"]) != ops[index]:
                raise ValueError(f"hw_{dataset}.csv row {index} is not cell {ops_to_arch(ops[index])}")
        for metric in HW_METRICS:
            values = np.array([float(row[metric]) for row in hw_rows], dtype=np.float64)
            # HW-NAS-Bench writes -1 where it has no measurement (edgetpu_latency).
            values[values < 0] = np.nan
            arrays[f"{dataset}__{metric}"] = values
        arrays[f"{dataset}__test_accuracy"] = np.array(
            [float(row[_ACCURACY_COLUMNS[dataset]]) for row in accuracy_rows], dtype=np.float64
        )

    valid_rows = _read_csv(data_root / "nas-bench-201" / "nb201_cifar10_valid.csv")
    valid = np.full(NUM_ARCHS, np.nan)
    for row in valid_rows:
        index = int(row["index"])
        if arch_to_ops(row["arch_str"]) != ops[index]:
            raise ValueError(f"nb201_cifar10_valid.csv index {index} is not cell {ops_to_arch(ops[index])}")
        valid[index] = float(row["valid-accuracy"])
    arrays["cifar10__valid_accuracy"] = valid

    conv_counts = [(cell.count("nor_conv_3x3"), cell.count("nor_conv_1x1")) for cell in ops]
    for dataset in DATASETS:
        num_classes, shape = DATASET_SHAPES[dataset]
        cost: dict[tuple[int, int], tuple[int, int]] = {}
        params = np.zeros(NUM_ARCHS, dtype=np.int64)
        macs = np.zeros(NUM_ARCHS, dtype=np.int64)
        for index, counts in enumerate(conv_counts):
            if counts not in cost:
                model = CellNetwork(ops_to_arch(ops[index]), num_classes, in_channels=shape[0])
                cost[counts] = (count_parameters(model), count_macs(model, shape))
            params[index], macs[index] = cost[counts]
        arrays[f"{dataset}__params"] = params
        arrays[f"{dataset}__flops"] = macs
        _logger.info("%s: %d parameter/MAC combinations", dataset, len(cost))
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(1)

    arrays = compile_table(args.data_root)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **arrays)
    shutil.copyfile(args.data_root / "hw-nas-bench" / "LICENSE", args.output.parent / "LICENSE-HW-NAS-Bench")
    shutil.copyfile(
        args.data_root / "nas-bench-201" / "LICENSE-cifar10_valid",
        args.output.parent / "LICENSE-cifar10_valid",
    )
    _logger.info("wrote %s (%.1f MB)", args.output, args.output.stat().st_size / 1e6)


if __name__ == "__main__":
    main()
