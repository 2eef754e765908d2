"""FPGA latency and energy estimate from layer workloads and a device profile."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
import math

from optuna_hwprune.hardware._profile import default_profile
from optuna_hwprune.hardware._profile import DeviceProfile
from optuna_hwprune.hardware._workload import ADD
from optuna_hwprune.hardware._workload import CONV
from optuna_hwprune.hardware._workload import LayerWorkload
from optuna_hwprune.hardware._workload import LINEAR
from optuna_hwprune.hardware._workload import POOL


_MAX_CACHED_COSTS = 100_000

SPATIAL = "spatial"
POINTWISE = "pointwise"
VECTOR = "vector"


@dataclass(frozen=True)
class LayerEstimate:
    """Estimated cost of one layer run on its own.

    Attributes:
        name: The workload's name.
        engine: ``"spatial"`` or ``"pointwise"`` (the MAC array on kernels larger than 1x1
            or on 1x1 kernels and linear layers) or ``"vector"``.
        latency_ms: Latency of the layer alone; a block whose layers overlap takes less than
            the sum of its layers.
        compute_ms: Time the MAC array or vector unit computes.
        memory_ms: Time of the layer's external memory traffic.
        macs: Executed MACs after zero skipping and structured pruning.
        dram_bytes: External memory traffic in bytes.
    """

    name: str
    engine: str
    latency_ms: float
    compute_ms: float
    memory_ms: float
    macs: int
    dram_bytes: int


class HardwareEstimate:
    """Estimated FPGA latency and energy of one inference (batch size 1).

    These figures are an analytical estimate from a device profile, not a measurement.

    Attributes:
        latency_ms: Estimated latency in milliseconds.
        energy_mj: Estimated energy in millijoules.
        macs: Executed MACs (dense MACs minus those skipped or pruned away).
        per_layer: Per-layer estimates in workload order, built on first access.
    """

    __slots__ = ("latency_ms", "energy_mj", "macs", "_layers", "_per_layer")

    def __init__(
        self,
        latency_ms: float,
        energy_mj: float,
        macs: int,
        layers: Callable[[], tuple[LayerEstimate, ...]],
    ) -> None:
        self.latency_ms = latency_ms
        self.energy_mj = energy_mj
        self.macs = macs
        self._layers = layers
        self._per_layer: tuple[LayerEstimate, ...] | None = None

    @property
    def per_layer(self) -> tuple[LayerEstimate, ...]:
        """Per-layer estimates in workload order."""
        if self._per_layer is None:
            self._per_layer = self._layers()
        return self._per_layer

    def __repr__(self) -> str:
        return (
            f"HardwareEstimate(latency_ms={self.latency_ms!r}, energy_mj={self.energy_mj!r}, "
            f"macs={self.macs!r}, layers={len(self.per_layer)})"
        )


def _engine(workload: LayerWorkload) -> str:
    if workload.kind == CONV and workload.kernel_size[0] * workload.kernel_size[1] > 1:
        return SPATIAL
    if workload.kind in (CONV, LINEAR):
        return POINTWISE
    return VECTOR


def _padded(channels: int, tile: int) -> int:
    return -(-channels // tile) * tile


class _LayerCost:
    """Integer cycle counts of one layer, and its executed MACs and memory traffic."""

    __slots__ = ("engine", "compute", "memory", "overhead", "macs", "dram_bytes", "onchip_bytes")

    def __init__(
        self,
        engine: str,
        compute: int,
        memory: int,
        overhead: int,
        macs: int,
        dram_bytes: int,
        onchip_bytes: float,
    ) -> None:
        self.engine = engine
        self.compute = compute
        self.memory = memory
        self.overhead = overhead
        self.macs = macs
        self.dram_bytes = dram_bytes
        self.onchip_bytes = onchip_bytes


class FPGAEstimator:
    """Analytical FPGA latency and energy estimator for CNN inference at batch size 1.

    The device has a MAC array for convolutions and linear layers (with one throughput for
    kernels larger than 1x1 and another for 1x1 kernels), a vector unit for pooling and
    additions, and one external memory port. A layer costs a fixed overhead plus the larger
    of its compute time and its memory time (a roofline). Compute time is the MAC count,
    with channels padded to the channel tile, over the throughput, plus idle slots at the
    start of each output row of a spatial convolution. Memory time is the weight and
    activation bytes over the bandwidth. Consecutive layers of one
    block (a cell, a residual block) overlap when every activation tensor of the block fits
    the on-chip buffer, and the block then takes as long as its busiest resource. Otherwise the
    layers run one after another. Batch norm folds into the preceding convolution and
    activations run in the output stage of the unit that produced the tensor, so neither
    costs a pass of its own. Energy is static power times latency plus a dynamic energy per
    executed MAC.

    The results are estimates from a small analytical model, not measurements.

    Args:
        profile: Device profile; ``None`` selects the default profile calibrated against
            HW-NAS-Bench's FPGA figures.
    """

    def __init__(self, profile: DeviceProfile | None = None) -> None:
        self.profile = profile if profile is not None else default_profile()
        self._cache: dict[int | tuple[int, float, bool], _LayerCost] = {}

    def estimate(
        self,
        workloads: Sequence[LayerWorkload],
        sparsity: Mapping[str, float] | None = None,
        structured: bool = False,
    ) -> HardwareEstimate:
        """Estimate latency and energy of a network.

        Args:
            workloads: Layer workloads from :func:`extract_workloads` or
                :func:`workloads_from_arch`.
            sparsity: Fraction of zero weights per Conv2d/Linear layer name, in ``[0, 1)``.
                Missing layers are dense.
            structured: If ``True``, each value is the fraction of output channels (filters)
                removed, and the layer shrinks. If ``False``, the zeros are scattered, so the
                MAC array skips a share of them and reads compressed weights.

        Returns:
            The estimate, with per-layer figures.
        """
        densities = self._densities(workloads, sparsity)
        if densities:
            costs = [self._cost(workload, densities.get(workload.name, 1.0), structured) for workload in workloads]
        else:
            costs = [self._cost(workload, 1.0, False) for workload in workloads]
        cycles = self._total_cycles(workloads, costs)

        profile = self.profile
        cycle_ms = 1.0 / (profile.clock_mhz * 1e3)
        macs = sum(cost.macs for cost in costs)
        latency_ms = cycles * cycle_ms
        energy_mj = profile.static_power_w * latency_ms + profile.energy_per_mac_pj * macs * 1e-9

        def layers() -> tuple[LayerEstimate, ...]:
            return tuple(
                LayerEstimate(
                    name=workload.name,
                    engine=cost.engine,
                    latency_ms=(cost.overhead + max(cost.compute, cost.memory)) * cycle_ms,
                    compute_ms=cost.compute * cycle_ms,
                    memory_ms=cost.memory * cycle_ms,
                    macs=cost.macs,
                    dram_bytes=cost.dram_bytes,
                )
                for workload, cost in zip(workloads, costs)
            )

        return HardwareEstimate(latency_ms=latency_ms, energy_mj=energy_mj, macs=macs, layers=layers)

    def latency_cycles(self, workloads: Sequence[LayerWorkload]) -> int:
        """Return the estimated dense latency in clock cycles (an exact integer)."""
        costs = [self._cost(workload, 1.0, False) for workload in workloads]
        return self._total_cycles(workloads, costs)

    def speedup(
        self,
        workloads: Sequence[LayerWorkload],
        sparsity: Mapping[str, float],
        structured: bool = False,
    ) -> float:
        """Return the estimated speedup: dense latency over pruned latency.

        Args:
            workloads: Layer workloads of the dense network.
            sparsity: Fraction of zero weights (or removed filters) per layer name.
            structured: See :meth:`estimate`.

        Returns:
            Dense latency divided by the latency with ``sparsity`` applied (>= 1).
        """
        dense = self.estimate(workloads).latency_ms
        pruned = self.estimate(workloads, sparsity, structured).latency_ms
        return dense / pruned

    @staticmethod
    def _densities(
        workloads: Sequence[LayerWorkload], sparsity: Mapping[str, float] | None
    ) -> dict[str, float]:
        if not sparsity:
            return {}
        prunable = {workload.name for workload in workloads if workload.is_prunable}
        unknown = sorted(set(sparsity) - prunable)
        if unknown:
            raise ValueError(
                f"Unknown layer names in sparsity: {unknown}. Keys must be names of Conv2d or "
                f"Linear workloads, for example {sorted(prunable)[:3]}."
            )
        densities = {}
        for name, value in sparsity.items():
            value = float(value)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"Sparsity of {name!r} must be in [0, 1), got {value!r}.")
            densities[name] = 1.0 - value
        return densities

    def _cost(self, workload: LayerWorkload, density: float, structured: bool) -> _LayerCost:
        pruned = density < 1.0
        key = (workload.cost_id, density, structured) if pruned else workload.cost_id
        cost = self._cache.get(key)
        if cost is None:
            if structured and pruned:
                workload = _shrink_outputs(workload, density)
                density = 1.0
            cost = self._compute_cost(workload, density)
            if len(self._cache) >= _MAX_CACHED_COSTS:
                # Random sparsity vectors rarely repeat, so a long search would grow the cache
                # without bound.
                self._cache.clear()
            self._cache[key] = cost
        return cost

    def _compute_cost(self, workload: LayerWorkload, density: float) -> _LayerCost:
        profile = self.profile
        engine = _engine(workload)
        element_bytes = profile.bytes_per_element
        onchip_bytes = max(workload.input_elements, workload.output_elements) * element_bytes

        if engine == VECTOR:
            if workload.kind not in (POOL, ADD):
                # Batch norm folds into the preceding convolution's weights. Activations run in
                # the output stage of the unit that produced the tensor.
                return _LayerCost(engine, 0, 0, 0, 0, 0, onchip_bytes)
            window = workload.kernel_size[0] * workload.kernel_size[1] if workload.kind == POOL else 1
            inputs = 2 * workload.output_elements if workload.kind == ADD else workload.input_elements
            compute = math.ceil(workload.output_elements * window / profile.vector_ops_per_cycle)
            activation_bytes = (inputs + workload.output_elements) * element_bytes
            weight_bytes = 0.0
            macs = 0
        else:
            tile = profile.channel_tile
            groups = workload.groups
            kernel_area = workload.kernel_size[0] * workload.kernel_size[1]
            tiled_macs = (
                groups
                * _padded(workload.out_channels // groups, tile)
                * _padded(workload.in_channels // groups, tile)
                * workload.out_shape[1]
                * workload.out_shape[2]
                * kernel_area
            )
            throughput = (
                profile.spatial_macs_per_cycle if engine == SPATIAL else profile.pointwise_macs_per_cycle
            )
            executed_fraction = 1.0 - profile.zero_skip_efficiency * (1.0 - density)
            if engine == SPATIAL:
                out_width = workload.out_shape[2]
                tiled_macs = tiled_macs * (out_width + profile.row_overhead_pixels) / out_width
            compute = math.ceil(tiled_macs * executed_fraction / throughput)
            macs = math.ceil(workload.macs * executed_fraction)
            dense_weight_bytes = workload.weight_count * element_bytes
            sparse_weight_bytes = workload.weight_count * density * (profile.bit_width + profile.index_bits) / 8
            # Compressed storage is used only where it is smaller than the dense tensor.
            weight_bytes = min(dense_weight_bytes, sparse_weight_bytes)
            activation_bytes = (workload.input_elements + workload.output_elements) * element_bytes

        bandwidth = profile.memory_bytes_per_cycle
        return _LayerCost(
            engine,
            compute,
            math.ceil((weight_bytes + activation_bytes) / bandwidth),
            math.ceil(profile.layer_overhead_cycles),
            macs,
            math.ceil(weight_bytes + activation_bytes),
            onchip_bytes,
        )

    def _total_cycles(self, workloads: Sequence[LayerWorkload], costs: Sequence[_LayerCost]) -> int:
        # Consecutive workloads with the same block name form one block. Integer cycle counts
        # make the total independent of summation order, so equal work gives equal estimates.
        buffer_bytes = self.profile.buffer_kib * 1024
        total = 0
        index = 0
        count = len(workloads)
        while index < count:
            block = workloads[index].block
            mac_array = vector = memory = overhead = serial = 0
            fits = True
            while index < count and workloads[index].block == block:
                cost = costs[index]
                fits = fits and cost.onchip_bytes <= buffer_bytes
                serial += cost.overhead + max(cost.compute, cost.memory)
                overhead += cost.overhead
                memory += cost.memory
                if cost.engine == VECTOR:
                    vector += cost.compute
                else:
                    mac_array += cost.compute
                index += 1
            # A block whose activations fit on chip streams them between its layers, so the
            # MAC array, the vector unit and the memory port work concurrently and the busiest
            # one sets the pace. Otherwise each layer completes, through external memory,
            # before the next starts.
            total += overhead + max(mac_array, vector, memory) if fits else serial
        return total


def _shrink_outputs(workload: LayerWorkload, density: float) -> LayerWorkload:
    """Remove a ``1 - density`` share of output channels (filters) from a layer."""
    # NOTE: the consumer of this layer keeps its input channel count, so the estimated
    # structured speedup is a lower bound.
    out_channels = max(1, round(workload.out_channels * density))
    groups = workload.groups
    if groups > 1:
        # A grouped convolution keeps the same number of filters in every group.
        out_channels = max(groups, out_channels - out_channels % groups)
    scale = out_channels / workload.out_channels
    return replace(
        workload,
        out_shape=(out_channels, workload.out_shape[1], workload.out_shape[2]),
        macs=math.ceil(workload.macs * scale),
        weight_count=math.ceil(workload.weight_count * scale),
    )
