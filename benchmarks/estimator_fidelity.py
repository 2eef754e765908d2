"""FPGA estimator fidelity against HW-NAS-Bench, and estimator speed.

Calibrates a device profile on 200 NAS-Bench-201 cells (100 on cifar10, 100 on ImageNet16-120),
then compares, on every other cell of cifar10, cifar100 and ImageNet16-120, the estimator's
latency and energy with HW-NAS-Bench's FPGA figures, side by side with two baselines:

- MAC count: total convolution and linear MACs times one scale factor fitted on the same
  calibration cells (its ranking does not depend on the scale).
- Per-op linear fit: latency = a + sum of per-op-type counts times their costs, fitted by least
  squares on all cells of each dataset itself (an in-sample additive model).

It also measures the time to estimate all 15,625 cells of a dataset (arch string to estimate,
one core) and one ResNet50 sparsity vector.

    python benchmarks/estimator_fidelity.py --data-root ../shared/data [--write-profile]
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import logging
import math
from pathlib import Path
import platform
import statistics
import time

import numpy as np
from scipy.stats import kendalltau
from scipy.stats import spearmanr

from optuna_hwprune.hardware import calibrate
from optuna_hwprune.hardware import DeviceProfile
from optuna_hwprune.hardware import FPGAEstimator
from optuna_hwprune.hardware import workloads_from_arch
from optuna_hwprune.hardware import workloads_from_ops
from optuna_hwprune.hardware._profile import DEFAULT_PROFILE_NAME


DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
CALIBRATION_DATASETS = ("cifar10", "ImageNet16-120")
CELLS_PER_CALIBRATION_DATASET = 100
# HW-NAS-Bench's CSV op ids and edge order (1<-0, 2<-0, 3<-0, 2<-1, 3<-1, 3<-2).
CSV_OP_NAMES = {0: "skip_connect", 1: "none", 2: "nor_conv_3x3", 3: "nor_conv_1x1", 4: "avg_pool_3x3"}
CSV_TO_ARCH_EDGE_ORDER = (0, 1, 3, 2, 4, 5)
OP_TYPES = ("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect")
REPO_ROOT = Path(__file__).resolve().parents[1]
PROFILE_PATH = REPO_ROOT / "optuna_hwprune" / "hardware" / "profiles" / f"{DEFAULT_PROFILE_NAME}.json"

_logger = logging.getLogger("estimator_fidelity")


def load_table(data_root: Path, dataset: str) -> tuple[list[tuple[str, ...]], np.ndarray, np.ndarray]:
    ops, latency, energy = [], [], []
    with open(data_root / "hw-nas-bench" / f"hw_{dataset}.csv", newline="") as file:
        for row in csv.DictReader(file):
            ids = ast.literal_eval(row["net"])
            ops.append(tuple(CSV_OP_NAMES[ids[edge]] for edge in CSV_TO_ARCH_EDGE_ORDER))
            latency.append(float(row["fpga_latency"]))
            energy.append(float(row["fpga_energy"]))
    return ops, np.array(latency), np.array(energy)


def load_arch_strings(data_root: Path) -> list[str]:
    with open(data_root / "nas-bench-201" / "nb201_test_accuracy.csv", newline="") as file:
        return [row["ArchitectureString"] for row in csv.DictReader(file)]


def metrics(estimate: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    error = np.abs(estimate - truth) / truth
    return {
        "kendall_tau": float(kendalltau(estimate, truth)[0]),
        "spearman_rho": float(spearmanr(estimate, truth)[0]),
        "mape_percent": float(100 * error.mean()),
        "worst_1pct_error_percent": float(100 * np.quantile(error, 0.99)),
    }


def op_counts(ops: list[tuple[str, ...]]) -> np.ndarray:
    return np.array([[cell.count(op) for op in OP_TYPES] for cell in ops], dtype=float)


def per_op_linear_fit(ops: list[tuple[str, ...]], target: np.ndarray) -> np.ndarray:
    design = np.column_stack([np.ones(len(ops)), op_counts(ops)])
    coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
    return design @ coefficients


def time_all_cells(
    arch_strings: list[str], dataset: str, profile: DeviceProfile, repeats: int
) -> tuple[list[float], np.ndarray]:
    # Each repeat uses a fresh estimator, whose per-layer cost cache starts empty.
    seconds = []
    for _ in range(repeats):
        estimator = FPGAEstimator(profile)
        start = time.perf_counter()
        latencies = [estimator.estimate(workloads_from_arch(arch, dataset)).latency_ms for arch in arch_strings]
        seconds.append(time.perf_counter() - start)
    return seconds, np.array(latencies)


def time_resnet50_vectors(profile: DeviceProfile, repeats: int) -> dict[str, float]:
    import torch

    from optuna_hwprune.hardware import extract_workloads
    from optuna_hwprune.pruning import build_model

    torch.set_num_threads(1)
    model = build_model("resnet50", num_classes=10)
    workloads = extract_workloads(model, torch.zeros(1, 3, 32, 32))
    names = [workload.name for workload in workloads if workload.is_prunable]
    estimator = FPGAEstimator(profile)
    estimator.estimate(workloads)
    rng = np.random.default_rng(0)
    estimate_ms, speedup_ms = [], []
    for _ in range(repeats):
        sparsity = dict(zip(names, rng.uniform(0.0, 0.95, len(names)).tolist()))
        start = time.perf_counter()
        estimator.estimate(workloads, sparsity)
        estimate_ms.append(1e3 * (time.perf_counter() - start))
        sparsity = dict(zip(names, rng.uniform(0.0, 0.95, len(names)).tolist()))
        start = time.perf_counter()
        estimator.speedup(workloads, sparsity)
        speedup_ms.append(1e3 * (time.perf_counter() - start))
    return {
        "layers": len(workloads),
        "prunable_layers": len(names),
        "estimate_median_ms": statistics.median(estimate_ms),
        "speedup_median_ms": statistics.median(speedup_ms),
        "repeats": repeats,
    }


def scatter(path: Path, results: dict, quantity: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(DATASETS), figsize=(10, 3.4), dpi=72)
    for axis, dataset in zip(axes, DATASETS):
        truth, estimate = results[dataset]["truth"], results[dataset]["estimate"]
        axis.scatter(truth, estimate, s=2, alpha=0.3, rasterized=True)
        low, high = min(truth.min(), estimate.min()), max(truth.max(), estimate.max())
        axis.plot([low, high], [low, high], color="black", linewidth=0.8)
        tau = results[dataset]["metrics"]["kendall_tau"]
        axis.set_title(f"{dataset} (tau {tau:.3f})", fontsize=9)
        axis.set_xlabel(f"HW-NAS-Bench {quantity}", fontsize=8)
        axis.tick_params(labelsize=7)
    axes[0].set_ylabel(f"estimated {quantity}", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    parser.add_argument("--seed", type=int, default=0, help="seed of the calibration cell draw")
    parser.add_argument("--resnet-repeats", type=int, default=200)
    parser.add_argument("--timing-repeats", type=int, default=3, help="timed passes over all cells")
    parser.add_argument(
        "--write-profile", action="store_true", help="write the calibrated profile as the package default"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    tables = {dataset: load_table(args.data_root, dataset) for dataset in DATASETS}
    arch_strings = load_arch_strings(args.data_root)
    num_cells = len(arch_strings)

    # Calibration cells: a seeded draw per calibration dataset; every cell drawn for any
    # dataset is left out of the evaluation on all datasets.
    rng = np.random.default_rng(args.seed)
    calibration = {
        dataset: rng.choice(num_cells, CELLS_PER_CALIBRATION_DATASET, replace=False)
        for dataset in CALIBRATION_DATASETS
    }
    held_out = np.ones(num_cells, dtype=bool)
    for indices in calibration.values():
        held_out[indices] = False

    networks, latencies, energies = [], [], []
    for dataset, indices in calibration.items():
        ops, latency, energy = tables[dataset]
        networks += [workloads_from_ops(ops[i], dataset) for i in indices]
        latencies += latency[indices].tolist()
        energies += energy[indices].tolist()
    start = time.perf_counter()
    result = calibrate(
        networks,
        latencies,
        energies,
        base_profile=DeviceProfile(
            name=DEFAULT_PROFILE_NAME,
            description=(
                "Accelerator model calibrated against HW-NAS-Bench's FPGA latency and energy "
                "(Vivado HLS estimates, batch 1) on 200 NAS-Bench-201 cells: 100 on cifar10 "
                f"and 100 on ImageNet16-120, drawn with numpy seed {args.seed} by "
                "benchmarks/estimator_fidelity.py. Clock, bit width, channel tile and layer "
                "overhead are fixed assumptions. The other figures are fitted."
            ),
            layer_overhead_cycles=0.0,
        ),
    )
    calibration_seconds = time.perf_counter() - start
    profile = result.profile
    _logger.info("calibrated in %.1f s: %s", calibration_seconds, profile)
    if args.write_profile:
        profile.save(PROFILE_PATH)
        _logger.info("wrote %s", PROFILE_PATH)

    report: dict = {
        "machine": f"{platform.machine()} {platform.system()}, 2-core VM, no GPU, one core used",
        "command": "python benchmarks/estimator_fidelity.py --data-root ../shared/data --write-profile",
        "calibration": {
            "cells": {dataset: len(indices) for dataset, indices in calibration.items()},
            "seed": args.seed,
            "free_parameters": list(result.free_parameters),
            "latency_mape_percent": 100 * result.latency_mape,
            "energy_mape_percent": 100 * (result.energy_mape or 0.0),
            "seconds": calibration_seconds,
            "profile": profile.to_dict(),
        },
        "held_out_cells": int(held_out.sum()),
        "datasets": {},
    }

    plots: dict[str, dict] = {"latency": {}, "energy": {}}
    for dataset in DATASETS:
        ops, latency, energy = tables[dataset]
        seconds, estimated_latency = time_all_cells(arch_strings, dataset, profile, args.timing_repeats)
        _logger.info("%s: 15,625 cells estimated in %s s", dataset, [round(s, 2) for s in seconds])
        estimator = FPGAEstimator(profile)
        estimated_energy = np.array(
            [estimator.estimate(workloads_from_ops(cell, dataset)).energy_mj for cell in ops]
        )
        check = np.array([estimator.estimate(workloads_from_ops(cell, dataset)).latency_ms for cell in ops])
        if not np.array_equal(check, estimated_latency):
            raise RuntimeError("arch-string and CSV op paths disagree; the cell order is wrong")

        macs = np.array([sum(w.macs for w in workloads_from_ops(cell, dataset)) for cell in ops], dtype=float)
        entry = {
            "estimate_all_cells_seconds_median": statistics.median(seconds),
            "estimate_all_cells_seconds_max": max(seconds),
        }
        for quantity, truth, estimate in (
            ("latency", latency, estimated_latency),
            ("energy", energy, estimated_energy),
        ):
            # MAC baseline: one scale, fitted on calibration cells (cifar100 borrows cifar10's).
            fit_cells = calibration.get(dataset, calibration["cifar10"])
            scale = float(macs[fit_cells] @ truth[fit_cells] / (macs[fit_cells] @ macs[fit_cells]))
            # Rounded to 1e-9 so that floating-point noise does not split cells that tie.
            linear = np.round(per_op_linear_fit(ops, truth), 9)
            entry[quantity] = {
                "estimator": metrics(estimate[held_out], truth[held_out]),
                "mac_count": metrics(np.round(scale * macs[held_out], 9), truth[held_out]),
                "per_op_linear_fit": metrics(linear[held_out], truth[held_out]),
            }
            plots[quantity][dataset] = {
                "truth": truth[held_out],
                "estimate": estimate[held_out],
                "metrics": entry[quantity]["estimator"],
            }
        entry["distinct_estimates"] = int(len(np.unique(estimated_latency)))
        entry["distinct_benchmark_latencies"] = int(len(np.unique(latency)))
        report["datasets"][dataset] = entry

    report["resnet50_sparsity_vector"] = time_resnet50_vectors(profile, args.resnet_repeats)

    args.out.mkdir(parents=True, exist_ok=True)
    for quantity in ("latency", "energy"):
        scatter(args.out / f"estimator_fidelity_{quantity}.png", plots[quantity], f"{quantity} ({'ms' if quantity == 'latency' else 'mJ'})")
    (args.out / "estimator_fidelity.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "estimator_fidelity.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    lines = [
        "# FPGA estimator fidelity against HW-NAS-Bench",
        "",
        f"Machine: {report['machine']}. Command: `{report['command']}`.",
        "",
        f"Calibration: {sum(report['calibration']['cells'].values())} cells "
        f"({', '.join(f'{n} on {d}' for d, n in report['calibration']['cells'].items())}), "
        f"{len(report['calibration']['free_parameters'])} free parameters "
        f"({', '.join(report['calibration']['free_parameters'])}), fitted in "
        f"{report['calibration']['seconds']:.1f} s. Evaluation: the other "
        f"{report['held_out_cells']:,} cells of each dataset. MAC count: total MACs times one "
        "scale fitted on the calibration cells. Per-op linear fit: fitted on all cells of the "
        "dataset itself. Worst 1%: the 99th percentile of the absolute percentage error.",
        "",
    ]
    for quantity in ("latency", "energy"):
        lines += [
            f"## {quantity.capitalize()}",
            "",
            "| dataset | model | Kendall tau | Spearman rho | MAPE % | worst 1% % |",
            "|---|---|---|---|---|---|",
        ]
        for dataset, entry in report["datasets"].items():
            for model in ("estimator", "mac_count", "per_op_linear_fit"):
                m = entry[quantity][model]
                lines.append(
                    f"| {dataset} | {model} | {m['kendall_tau']:.4f} | {m['spearman_rho']:.4f} | "
                    f"{m['mape_percent']:.2f} | {m['worst_1pct_error_percent']:.2f} |"
                )
        lines.append("")
    lines += ["## Speed", "", "| measurement | median | max |", "|---|---|---|"]
    for dataset, entry in report["datasets"].items():
        lines.append(
            f"| 15,625 cells on {dataset}, arch string to estimate | "
            f"{entry['estimate_all_cells_seconds_median']:.2f} s | {entry['estimate_all_cells_seconds_max']:.2f} s |"
        )
    resnet = report["resnet50_sparsity_vector"]
    lines.append(
        f"| ResNet50 (CIFAR, {resnet['layers']} workloads), one sparsity vector, `estimate` median of "
        f"{resnet['repeats']} | {resnet['estimate_median_ms']:.2f} ms | |"
    )
    lines.append(f"| the same, `speedup` (dense estimate cached) | {resnet['speedup_median_ms']:.2f} ms | |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
