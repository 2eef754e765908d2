"""Hardware-aware model compression as Optuna components.

The public names load on first access (PEP 562), so ``import optuna_hwprune`` and the
``hwprune`` command start without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> module that defines it.
_EXPORTS = {
    "LayerwiseNSGASampler": "optuna_hwprune.samplers",
    "PruningObjective": "optuna_hwprune.pruning",
    "FPGAEstimator": "optuna_hwprune.hardware",
    "DeviceProfile": "optuna_hwprune.hardware",
    "extract_workloads": "optuna_hwprune.hardware",
    "workloads_from_arch": "optuna_hwprune.hardware",
    "calibrate": "optuna_hwprune.hardware",
    "build_model": "optuna_hwprune.pruning",
    "magnitude_masks": "optuna_hwprune.pruning",
    "apply_masks": "optuna_hwprune.pruning",
    "load_table": "optuna_hwprune.nasbench",
    "find_seeds": "optuna_hwprune.nasbench",
    "enqueue_seeds": "optuna_hwprune.nasbench",
    "closest_reference": "optuna_hwprune.nasbench",
    "load_dataset": "optuna_hwprune.datasets",
    "upload_plots": "optuna_hwprune.report",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:
    from optuna_hwprune.datasets import load_dataset
    from optuna_hwprune.hardware import (
        DeviceProfile,
        FPGAEstimator,
        calibrate,
        extract_workloads,
        workloads_from_arch,
    )
    from optuna_hwprune.nasbench import closest_reference, enqueue_seeds, find_seeds, load_table
    from optuna_hwprune.pruning import PruningObjective, apply_masks, build_model, magnitude_masks
    from optuna_hwprune.report import upload_plots
    from optuna_hwprune.samplers import LayerwiseNSGASampler


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'optuna_hwprune' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
