"""The HW-NAS-Bench / NAS-Bench-201 table: hardware cost and accuracy of every cell.

The package ships a compact table (``data/nasbench201_hw.npz``, built by
``scripts/compile_nasbench_table.py``) so that queries work offline with no set-up. Per cell and
reference dataset it holds:

- the ten HW-NAS-Bench metrics (latency in ms, energy in mJ, batch size 1; Yang Li et al.,
  ICLR 2021, MIT licence), with missing measurements (``edgetpu_latency`` = -1 in the benchmark)
  stored as NaN;
- ``test_accuracy``: NAS-Bench-201 test accuracy in percent after 200 epochs;
- ``valid_accuracy`` (CIFAR-10 only): the ``cifar10-valid`` setting's validation accuracy;
- ``params`` and ``flops``: trainable parameters and multiply-accumulates of convolutions and
  linear layers per image, computed from the C=16, N=5 cell network.

:func:`load_hw_nas_bench_pickle` reads the official ``HW-NAS-Bench-v1_0.pickle`` instead.
"""

from __future__ import annotations

import functools
import math
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")

HW_METRICS: tuple[str, ...] = (
    "edgegpu_latency",
    "edgegpu_energy",
    "raspi4_latency",
    "edgetpu_latency",
    "pixel3_latency",
    "eyeriss_latency",
    "eyeriss_energy",
    "eyeriss_arithmetic_intensity",
    "fpga_latency",
    "fpga_energy",
)
ACCURACY_METRICS: tuple[str, ...] = ("test_accuracy", "valid_accuracy")
COST_METRICS: tuple[str, ...] = ("params", "flops")

# Classes and input shape (channels, height, width) of each reference dataset.
DATASET_SHAPES: dict[str, tuple[int, tuple[int, int, int]]] = {
    "cifar10": (10, (3, 32, 32)),
    "cifar100": (100, (3, 32, 32)),
    "ImageNet16-120": (120, (3, 16, 16)),
}

BUNDLED_TABLE = Path(__file__).resolve().parent / "data" / "nasbench201_hw.npz"

HW_NAS_BENCH_URL = "https://github.com/GATECH-EIC/HW-NAS-Bench"


def normalize_dataset(name: str) -> str:
    """Return the canonical reference dataset name (case-insensitive match).

    Raises:
        ValueError: If ``name`` is not one of :data:`DATASETS`.
    """
    for dataset in DATASETS:
        if str(name).lower() == dataset.lower():
            return dataset
    raise ValueError(f"unknown reference dataset {name!r}; valid: {', '.join(DATASETS)}")


def load_table_arrays(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """Load the raw arrays of a compiled table (the bundled one when ``path`` is None).

    Raises:
        FileNotFoundError: If the table file does not exist.
    """
    if path is None:
        return {key: value.copy() for key, value in _bundled_arrays().items()}
    return _read_npz(Path(path))


@functools.lru_cache(maxsize=1)
def _bundled_arrays() -> dict[str, np.ndarray]:
    return _read_npz(BUNDLED_TABLE)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(
            f"NAS-Bench-201 table not found at {path}; rebuild it with "
            "`python scripts/compile_nasbench_table.py --data-root DATA` or reinstall the package"
        )
    with np.load(path) as archive:
        return {key: archive[key] for key in archive.files}


class BenchTable:
    """Hardware metrics, accuracies and costs of all 15,625 NAS-Bench-201 cells.

    Args:
        arrays: Column arrays keyed ``"<dataset>__<metric>"``, plus ``"ops"`` (op ids per cell)
            and ``"unique_id"`` (cells that compute the same function share an id).
    """

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self._arrays = dict(arrays)
        for array in self._arrays.values():
            array.setflags(write=False)

    def metrics(self, dataset: str) -> tuple[str, ...]:
        """Return the metric names available for ``dataset``."""
        dataset = normalize_dataset(dataset)
        names = HW_METRICS + ACCURACY_METRICS + COST_METRICS
        return tuple(name for name in names if f"{dataset}__{name}" in self._arrays)

    def column(self, dataset: str, metric: str) -> np.ndarray:
        """Return one metric of every cell, by index (read-only; NaN marks a missing value).

        Raises:
            ValueError: If ``dataset`` or ``metric`` is unknown.
        """
        dataset = normalize_dataset(dataset)
        key = f"{dataset}__{metric}"
        if key not in self._arrays:
            raise ValueError(
                f"unknown metric {metric!r} for {dataset}; valid: {', '.join(self.metrics(dataset))}"
            )
        return self._arrays[key]

    @property
    def unique_ids(self) -> np.ndarray:
        """Functional-equivalence group of every cell, by index."""
        return self._arrays["unique_id"]

    def query(self, arch: str | int, dataset: str) -> dict[str, Any]:
        """Return every metric of one cell on ``dataset``.

        Args:
            arch: NAS-Bench-201 arch string (any edge order or spacing) or index.
            dataset: Reference dataset, one of :data:`DATASETS`.

        Returns:
            ``index``, ``arch``, ``dataset`` and one entry per metric; a metric that the
            benchmark did not measure is None.
        """
        from optuna_hwprune.nasbench.space import arch_to_index, index_to_arch

        index = arch if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool) else None
        if index is None:
            index = arch_to_index(arch)
        canonical = index_to_arch(int(index))
        dataset = normalize_dataset(dataset)

        record: dict[str, Any] = {"index": int(index), "arch": canonical, "dataset": dataset}
        for metric in self.metrics(dataset):
            value = self.column(dataset, metric)[index]
            if metric in COST_METRICS:
                record[metric] = int(value)
            else:
                record[metric] = None if math.isnan(value) else float(value)
        return record


@functools.lru_cache(maxsize=1)
def _bundled_table() -> BenchTable:
    return BenchTable(_bundled_arrays())


def load_table(path: str | Path | None = None) -> BenchTable:
    """Load a compiled table: the bundled one by default, a compiled ``.npz`` or an official
    ``HW-NAS-Bench-v1_0.pickle`` otherwise.
    """
    if path is None:
        return _bundled_table()
    path = Path(path)
    if path.suffix == ".pickle" or path.suffix == ".pkl":
        return load_hw_nas_bench_pickle(path)
    return BenchTable(_read_npz(path))


def load_hw_nas_bench_pickle(path: str | Path) -> BenchTable:
    """Read the official HW-NAS-Bench data file (``HW-NAS-Bench-v1_0.pickle``).

    The hardware metrics come from the pickle; accuracies and costs, which the pickle does not
    hold, come from the bundled table. The pickle's ``config`` entries (when present) must list
    the cells in NAS-Bench-201 index order.

    Args:
        path: The pickle file, downloaded from the HW-NAS-Bench repository.

    Returns:
        A table whose hardware columns are the pickle's figures.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not a HW-NAS-Bench data file or its cells are out of order.
    """
    from optuna_hwprune.nasbench.space import NUM_ARCHS, arch_to_ops, index_to_ops

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"HW-NAS-Bench data file not found: {path}. Download HW-NAS-Bench-v1_0.pickle from "
            f"{HW_NAS_BENCH_URL} (it sits at the repository root), or omit the path to use the "
            "table bundled with optuna-hwprune"
        )
    with path.open("rb") as handle:
        # The official file is plain Python dicts and lists; load only files you trust.
        try:
            data = pickle.load(handle)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
            raise ValueError(
                f"{path} is not a readable pickle file ({error}); download "
                f"HW-NAS-Bench-v1_0.pickle again from {HW_NAS_BENCH_URL}"
            ) from error
    space = data.get("nasbench201") if isinstance(data, Mapping) else None
    if not isinstance(space, Mapping):
        raise ValueError(f"{path} is not a HW-NAS-Bench data file: no 'nasbench201' entry")

    arrays = dict(_bundled_arrays())
    for dataset in DATASETS:
        if dataset not in space:
            raise ValueError(f"{path} has no NAS-Bench-201 metrics for {dataset}")
        entry = space[dataset]
        configs = entry.get("config")
        if configs is not None:
            for index in (0, len(configs) // 2, len(configs) - 1):
                arch = configs[index].get("arch_str") if isinstance(configs[index], Mapping) else None
                if arch is not None and arch_to_ops(arch) != index_to_ops(index):
                    raise ValueError(f"{path}: cell {index} of {dataset} is {arch}, not in NAS-Bench-201 order")
        for metric in HW_METRICS:
            values = np.asarray(entry[metric], dtype=np.float64).copy()
            if values.shape != (NUM_ARCHS,):
                raise ValueError(f"{path}: {dataset}/{metric} has shape {values.shape}, expected ({NUM_ARCHS},)")
            values[values < 0] = np.nan
            arrays[f"{dataset}__{metric}"] = values
    return BenchTable(arrays)
