"""Calibration of a device profile against latencies and energies measured on a board."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields
import logging

import numpy as np
from scipy.optimize import least_squares
from scipy.optimize import nnls

from optuna_hwprune.hardware._estimator import FPGAEstimator
from optuna_hwprune.hardware._profile import default_profile
from optuna_hwprune.hardware._profile import DeviceProfile
from optuna_hwprune.hardware._workload import LayerWorkload


_logger = logging.getLogger(__name__)

# Continuous latency parameters fitted by default. With the buffer size (chosen from a grid)
# and the two energy parameters, a default calibration has 8 free parameters.
DEFAULT_LATENCY_PARAMETERS = (
    "spatial_macs_per_cycle",
    "pointwise_macs_per_cycle",
    "vector_ops_per_cycle",
    "memory_bytes_per_cycle",
    "row_overhead_pixels",
)
_CONTINUOUS_FIELDS = {
    field.name for field in fields(DeviceProfile) if field.type in ("float", float)
} - {"buffer_kib", "static_power_w", "energy_per_mac_pj", "zero_skip_efficiency"}


@dataclass(frozen=True)
class CalibrationResult:
    """A calibrated profile and how well it reproduces the measurements it was fitted on.

    Attributes:
        profile: The calibrated device profile.
        free_parameters: Names of the fitted profile fields (``buffer_kib`` counts when it was
            chosen from more than one candidate).
        latency_mape: Mean absolute percentage error of latency on the calibration networks.
        energy_mape: The same for energy, or ``None`` without energy measurements.
        num_networks: Number of calibration networks.
    """

    profile: DeviceProfile
    free_parameters: tuple[str, ...]
    latency_mape: float
    energy_mape: float | None
    num_networks: int


def _buffer_candidates(networks: Sequence[Sequence[LayerWorkload]], bytes_per_element: float) -> list[float]:
    # Each distinct per-block peak activation size is a threshold at which more blocks
    # overlap. A buffer of 0 KiB lets no block overlap.
    sizes = set()
    for workloads in networks:
        peaks: dict[str, int] = {}
        for workload in workloads:
            size = max(workload.input_elements, workload.output_elements)
            peaks[workload.block] = max(peaks.get(workload.block, 0), size)
        sizes.update(peaks.values())
    kib = sorted(size * bytes_per_element / 1024 for size in sizes)
    return [0.0, *kib]


def calibrate(
    networks: Sequence[Sequence[LayerWorkload]],
    latency_ms: Sequence[float],
    energy_mj: Sequence[float] | None = None,
    base_profile: DeviceProfile | None = None,
    parameters: Sequence[str] = DEFAULT_LATENCY_PARAMETERS,
    buffer_kib_candidates: Sequence[float] | None = None,
) -> CalibrationResult:
    """Fit a device profile to latencies (and energies) measured on a board.

    Latency parameters are fitted by non-linear least squares on the logarithm of the
    estimated over the measured latency, so every network weighs by its relative error. The
    on-chip buffer size is discrete in effect (it only matters which blocks fit), so each
    candidate is fitted in turn and the best one kept. Energy is then fitted as static power
    times estimated latency plus energy per executed MAC, by non-negative least squares.
    A few dozen networks that differ in their layer mix are enough to pin down the default
    8 free parameters.

    Args:
        networks: Workloads of each measured network, from :func:`extract_workloads` or
            :func:`workloads_from_arch`.
        latency_ms: Measured latency of each network in milliseconds.
        energy_mj: Measured energy of each network in millijoules, or ``None`` to keep the
            energy parameters of ``base_profile``.
        base_profile: Starting point and source of every field that is not fitted; ``None``
            selects the default profile.
        parameters: Continuous profile fields to fit (positive numbers).
        buffer_kib_candidates: Buffer sizes to try; ``None`` tries every distinct per-block
            activation size of ``networks``, plus 0. Give one value to keep it fixed.

    Returns:
        The calibrated profile with its fit errors.
    """
    if len(networks) != len(latency_ms):
        raise ValueError(
            f"networks and latency_ms must have the same length, got {len(networks)} and {len(latency_ms)}."
        )
    if len(networks) < 2:
        raise ValueError(f"calibrate needs at least 2 measured networks, got {len(networks)}.")
    if energy_mj is not None and len(energy_mj) != len(networks):
        raise ValueError(
            f"energy_mj must have one value per network ({len(networks)}), got {len(energy_mj)}."
        )
    unknown = sorted(set(parameters) - _CONTINUOUS_FIELDS)
    if unknown:
        raise ValueError(
            f"Cannot fit {unknown}; fittable latency parameters are {sorted(_CONTINUOUS_FIELDS)}."
        )
    measured = np.asarray(latency_ms, dtype=float)
    if not np.all(np.isfinite(measured)) or np.any(measured <= 0):
        raise ValueError("latency_ms must be finite and positive.")

    base = base_profile if base_profile is not None else default_profile()
    candidates = (
        list(buffer_kib_candidates)
        if buffer_kib_candidates is not None
        else _buffer_candidates(networks, base.bytes_per_element)
    )
    start = np.log([max(float(getattr(base, name)), 1e-3) for name in parameters])

    def profile_for(log_values: np.ndarray, buffer_kib: float) -> DeviceProfile:
        values = {name: float(np.exp(value)) for name, value in zip(parameters, log_values)}
        return base.with_updates(buffer_kib=float(buffer_kib), **values)

    def estimate_latencies(profile: DeviceProfile) -> np.ndarray:
        estimator = FPGAEstimator(profile)
        return np.array([estimator.estimate(workloads).latency_ms for workloads in networks])

    best: tuple[float, DeviceProfile] | None = None
    for buffer_kib in candidates:

        def residuals(log_values: np.ndarray) -> np.ndarray:
            return np.log(estimate_latencies(profile_for(log_values, buffer_kib)) / measured)

        solution = least_squares(residuals, start, diff_step=1e-3)
        _logger.info("buffer %.3g KiB: log-latency cost %.5f", buffer_kib, solution.cost)
        if best is None or solution.cost < best[0]:
            best = (solution.cost, profile_for(solution.x, buffer_kib))
    assert best is not None
    profile = best[1]

    estimated = estimate_latencies(profile)
    latency_mape = float(np.mean(np.abs(estimated - measured) / measured))
    free = list(parameters) + (["buffer_kib"] if len(candidates) > 1 else [])

    energy_mape = None
    if energy_mj is not None:
        energies = np.asarray(energy_mj, dtype=float)
        estimator = FPGAEstimator(profile)
        macs = np.array([estimator.estimate(workloads).macs for workloads in networks], dtype=float)
        # Energy (mJ) = power (W) x latency (ms) + energy per MAC (pJ) x MACs x 1e-9.
        design = np.column_stack([estimated, macs * 1e-9])
        (power_w, energy_per_mac_pj), _ = nnls(design / energies[:, None], np.ones(len(energies)))
        profile = profile.with_updates(static_power_w=float(power_w), energy_per_mac_pj=float(energy_per_mac_pj))
        predicted = design @ np.array([power_w, energy_per_mac_pj])
        energy_mape = float(np.mean(np.abs(predicted - energies) / energies))
        free += ["static_power_w", "energy_per_mac_pj"]

    return CalibrationResult(
        profile=profile,
        free_parameters=tuple(free),
        latency_mape=latency_mape,
        energy_mape=energy_mape,
        num_networks=len(networks),
    )
