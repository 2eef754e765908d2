"""NAS-Bench-201 cells with HW-NAS-Bench hardware figures, and warm-started seed search.

Importing this package loads neither torch nor optuna; the modules that need them import them
where they are used.
"""

from __future__ import annotations

from optuna_hwprune.nasbench.constraints import (
    Constraint,
    UnsatisfiableConstraintsError,
    feasible_mask,
    parse_constraint,
    parse_constraints,
)
from optuna_hwprune.nasbench.pareto import pareto_front, select_diverse
from optuna_hwprune.nasbench.seeds import Seed, enqueue_seeds, find_seeds
from optuna_hwprune.nasbench.similarity import (
    REFERENCE_DESCRIPTORS,
    DatasetDescriptor,
    closest_reference,
    describe_dataset,
    similarity_scores,
)
from optuna_hwprune.nasbench.space import (
    OPS,
    arch_to_index,
    arch_to_ops,
    index_to_arch,
    normalize_arch,
    ops_to_arch,
)
from optuna_hwprune.nasbench.table import DATASETS, HW_METRICS, BenchTable, load_hw_nas_bench_pickle, load_table

__all__ = [
    "DATASETS",
    "HW_METRICS",
    "OPS",
    "REFERENCE_DESCRIPTORS",
    "BenchTable",
    "Constraint",
    "DatasetDescriptor",
    "Seed",
    "UnsatisfiableConstraintsError",
    "arch_to_index",
    "arch_to_ops",
    "closest_reference",
    "describe_dataset",
    "enqueue_seeds",
    "feasible_mask",
    "find_seeds",
    "index_to_arch",
    "load_hw_nas_bench_pickle",
    "load_table",
    "normalize_arch",
    "ops_to_arch",
    "pareto_front",
    "parse_constraint",
    "parse_constraints",
    "select_diverse",
    "similarity_scores",
]
