from __future__ import annotations

import csv
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
from conftest import require_data

from optuna_hwprune.nasbench.space import index_to_arch
from optuna_hwprune.nasbench.table import (
    BUNDLED_TABLE,
    DATASETS,
    HW_METRICS,
    load_hw_nas_bench_pickle,
    load_table,
)


def test_index0_matches_hw_nas_bench_readme() -> None:
    record = load_table().query(0, "cifar10")
    assert record["edgegpu_latency"] == 5.807418537139893
    assert record["fpga_latency"] == 2.57296
    assert record["fpga_energy"] == 18.01072
    assert record["eyeriss_latency"] == 3.645620000000001


def test_bundled_table_is_compact() -> None:
    assert BUNDLED_TABLE.stat().st_size < 5_000_000
    for name in ("LICENSE-HW-NAS-Bench", "LICENSE-cifar10_valid"):
        assert "Permission is hereby granted" in (BUNDLED_TABLE.parent / name).read_text()


def test_missing_edgetpu_is_none_not_minus_one() -> None:
    table = load_table()
    for dataset in DATASETS:
        column = table.column(dataset, "edgetpu_latency")
        assert int(np.isnan(column).sum()) == 4699
        assert not (column < 0).any()
    missing = int(np.flatnonzero(np.isnan(table.column("cifar10", "edgetpu_latency")))[0])
    assert table.query(missing, "cifar10")["edgetpu_latency"] is None


def test_query_accepts_arch_string_and_dataset_alias() -> None:
    table = load_table()
    by_arch = table.query(" " + index_to_arch(6111).replace("|", " | "), "imagenet16-120")
    assert by_arch["index"] == 6111
    assert by_arch["dataset"] == "ImageNet16-120"
    assert table.query(6111, "cifar10")["test_accuracy"] == pytest.approx(94.37, abs=0.01)


def test_unknown_dataset_and_metric_raise() -> None:
    table = load_table()
    with pytest.raises(ValueError, match="svhn"):
        table.query(0, "svhn")
    with pytest.raises(ValueError, match="valid_accuracy"):
        table.column("cifar100", "valid_accuracy")


def test_table_equals_csv_exports() -> None:
    folder = require_data("hw-nas-bench")
    table = load_table()
    for dataset in DATASETS:
        with (folder / f"hw_{dataset}.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        for index in (0, 1, 777, 15624):
            for metric in HW_METRICS:
                expected = float(rows[index][metric])
                value = table.column(dataset, metric)[index]
                if expected == -1:
                    assert math.isnan(value)
                else:
                    assert value == expected


def _official_pickle(path: Path, folder: Path) -> None:
    # The official file maps nasbench201 -> dataset -> metric -> list of 15,625 values, and
    # config -> list of dicts with arch_str, in NAS-Bench-201 index order.
    data = {"nasbench201": {}}
    for dataset in DATASETS:
        with (folder / f"hw_{dataset}.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        entry = {metric: [float(row[metric]) for row in rows] for metric in HW_METRICS}
        entry["config"] = [{"arch_str": index_to_arch(i), "C": 16, "N": 5} for i in range(len(rows))]
        data["nasbench201"][dataset] = entry
    with path.open("wb") as handle:
        pickle.dump(data, handle)


def test_official_pickle_reader(tmp_path: Path) -> None:
    folder = require_data("hw-nas-bench")
    path = tmp_path / "HW-NAS-Bench-v1_0.pickle"
    _official_pickle(path, folder)
    table = load_table(path)
    bundled = load_table()
    record = table.query(0, "cifar10")
    assert record["fpga_latency"] == 2.57296
    assert record["edgetpu_latency"] == bundled.query(0, "cifar10")["edgetpu_latency"]
    np.testing.assert_array_equal(
        table.column("cifar100", "edgetpu_latency"), bundled.column("cifar100", "edgetpu_latency")
    )


def test_missing_pickle_error_names_file_and_source(tmp_path: Path) -> None:
    path = tmp_path / "HW-NAS-Bench-v1_0.pickle"
    with pytest.raises(FileNotFoundError) as error:
        load_hw_nas_bench_pickle(path)
    assert str(path) in str(error.value)
    assert "github.com/GATECH-EIC/HW-NAS-Bench" in str(error.value)


def test_foreign_pickle_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.pickle"
    path.write_bytes(pickle.dumps({"fbnet": {}}))
    with pytest.raises(ValueError, match="nasbench201"):
        load_hw_nas_bench_pickle(path)
