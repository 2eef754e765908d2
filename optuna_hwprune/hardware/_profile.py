"""Device profiles: the physical parameters of an FPGA accelerator that the estimator uses."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace
import json
from pathlib import Path
from typing import Any


_PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
DEFAULT_PROFILE_NAME = "zc706-hwnasbench"


@dataclass(frozen=True)
class DeviceProfile:
    """Physical parameters of a CNN accelerator on an FPGA.

    The accelerator has a MAC array for convolutions and linear layers, a vector unit for
    pooling and element-wise additions, one external memory port, and an on-chip buffer for
    activations. See :class:`FPGAEstimator` for how latency and energy follow from them.

    Attributes:
        name: Profile name.
        clock_mhz: Clock frequency of the accelerator in MHz.
        bit_width: Bits per weight and per activation (fixed point).
        channel_tile: Input and output channels that the MAC array processes per pass. A
            layer whose channel count is not a multiple of it wastes the rest of the pass.
        spatial_macs_per_cycle: MAC array throughput on convolutions with kernels larger than
            1x1, in MACs per cycle.
        pointwise_macs_per_cycle: MAC array throughput on 1x1 convolutions and linear layers,
            in MACs per cycle.
        row_overhead_pixels: Idle pixel slots per output row of a spatial convolution, while
            the sliding-window line buffer refills at the start of each row.
        vector_ops_per_cycle: Vector unit throughput in pooling-window or addition operations
            per cycle.
        memory_bytes_per_cycle: External memory bandwidth in bytes per clock cycle.
        buffer_kib: On-chip activation buffer in KiB. When every activation tensor of a block
            fits, its layers overlap; otherwise they run one after another.
        layer_overhead_cycles: Fixed cycles per layer (configuration, pipeline fill and drain).
        static_power_w: Power drawn while the accelerator runs, in watts.
        energy_per_mac_pj: Dynamic energy per executed MAC in picojoules.
        zero_skip_efficiency: Fraction of the MACs on zero weights that the MAC array skips
            (0 = none, 1 = all) for unstructured sparsity.
        index_bits: Bits of position index stored per non-zero weight of a compressed
            (sparse) weight tensor.
        description: Free text: the board and how the figures were obtained.
    """

    name: str = DEFAULT_PROFILE_NAME
    clock_mhz: float = 200.0
    bit_width: int = 16
    channel_tile: int = 16
    spatial_macs_per_cycle: float = 256.0
    pointwise_macs_per_cycle: float = 64.0
    row_overhead_pixels: float = 32.0
    vector_ops_per_cycle: float = 16.0
    memory_bytes_per_cycle: float = 32.0
    buffer_kib: float = 4.0
    layer_overhead_cycles: float = 200.0
    static_power_w: float = 7.0
    energy_per_mac_pj: float = 0.0
    # NOTE: no sparse measurements were available for calibration, so these two values are
    # assumptions, not fitted figures.
    zero_skip_efficiency: float = 0.75
    index_bits: int = 4
    description: str = ""

    def __post_init__(self) -> None:
        positive = (
            "clock_mhz",
            "bit_width",
            "channel_tile",
            "spatial_macs_per_cycle",
            "pointwise_macs_per_cycle",
            "vector_ops_per_cycle",
            "memory_bytes_per_cycle",
        )
        for key in positive:
            if not getattr(self, key) > 0:
                raise ValueError(f"DeviceProfile.{key} must be > 0, got {getattr(self, key)!r}.")
        for key in ("row_overhead_pixels", "buffer_kib", "layer_overhead_cycles", "static_power_w", "energy_per_mac_pj", "index_bits"):
            if getattr(self, key) < 0:
                raise ValueError(f"DeviceProfile.{key} must be >= 0, got {getattr(self, key)!r}.")
        if not 0.0 <= self.zero_skip_efficiency <= 1.0:
            raise ValueError(
                f"DeviceProfile.zero_skip_efficiency must be in [0, 1], got {self.zero_skip_efficiency!r}."
            )

    @property
    def bytes_per_element(self) -> float:
        """Bytes per weight or activation element."""
        return self.bit_width / 8

    def with_updates(self, **changes: Any) -> "DeviceProfile":
        """Return a copy with the given fields replaced."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the profile as a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "DeviceProfile":
        """Build a profile from a dict such as the one :meth:`to_dict` returns."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown DeviceProfile fields {unknown}; valid fields are {sorted(known)}.")
        return cls(**values)

    def save(self, path: str | Path) -> None:
        """Write the profile to a JSON file."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "DeviceProfile":
        """Read a profile from a JSON file written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))


def default_profile() -> DeviceProfile:
    """Return the default profile, calibrated against HW-NAS-Bench's FPGA figures."""
    path = _PROFILE_DIR / f"{DEFAULT_PROFILE_NAME}.json"
    if path.exists():
        return DeviceProfile.load(path)
    return DeviceProfile()
