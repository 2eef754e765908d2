"""FPGA latency and energy estimates from per-layer workloads.

The estimator is analytical: its figures are estimates from a device profile, not
measurements on a board.
"""

from __future__ import annotations

from optuna_hwprune.hardware._arch import workloads_from_arch
from optuna_hwprune.hardware._arch import workloads_from_ops
from optuna_hwprune.hardware._calibrate import calibrate
from optuna_hwprune.hardware._calibrate import CalibrationResult
from optuna_hwprune.hardware._calibrate import DEFAULT_LATENCY_PARAMETERS
from optuna_hwprune.hardware._estimator import FPGAEstimator
from optuna_hwprune.hardware._estimator import HardwareEstimate
from optuna_hwprune.hardware._estimator import LayerEstimate
from optuna_hwprune.hardware._extract import extract_workloads
from optuna_hwprune.hardware._profile import default_profile
from optuna_hwprune.hardware._profile import DeviceProfile
from optuna_hwprune.hardware._workload import LayerWorkload


__all__ = [
    "CalibrationResult",
    "DEFAULT_LATENCY_PARAMETERS",
    "DeviceProfile",
    "FPGAEstimator",
    "HardwareEstimate",
    "LayerEstimate",
    "LayerWorkload",
    "calibrate",
    "default_profile",
    "extract_workloads",
    "workloads_from_arch",
    "workloads_from_ops",
]
