"""Per-layer workload: the shapes and operation counts that the estimator costs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


CONV = "conv"
LINEAR = "linear"
POOL = "pool"
ADD = "add"
BATCHNORM = "batchnorm"
ACTIVATION = "activation"

LAYER_KINDS = (CONV, LINEAR, POOL, ADD, BATCHNORM, ACTIVATION)

# Element size used by the ``*_bytes`` properties: 16-bit fixed point, the precision of the
# default device profile. The estimator itself uses the bit width of its own profile.
BYTES_PER_ELEMENT = 2

# Small integer ids of distinct cost keys, so that estimators can look up layer costs by an
# int instead of hashing nested tuples.
_COST_IDS: dict[tuple, int] = {}


@dataclass(frozen=True)
class LayerWorkload:
    """The work of one layer for one input sample (batch size 1).

    Attributes:
        name: Module name from ``model.named_modules()`` (for example ``"layer1.0.conv1"``).
            Element-wise additions, which are not modules, are named
            ``"<enclosing module>.add.<k>"``. A module that runs more than once gets a
            ``":<call>"`` suffix from its second call on, except convolutions and linear
            layers, whose entries keep the module name so that sparsity keys match.
        kind: One of ``"conv"``, ``"linear"``, ``"pool"``, ``"add"``, ``"batchnorm"`` and
            ``"activation"``.
        in_shape: Input ``(channels, height, width)``; ``(features, 1, 1)`` for linear layers.
        out_shape: Output ``(channels, height, width)``.
        kernel_size: ``(height, width)`` of the convolution or pooling window, ``(1, 1)``
            otherwise.
        stride: ``(height, width)`` stride, ``(1, 1)`` for layers without one.
        groups: Convolution group count (1 for other layers).
        macs: Multiply-accumulate operations of convolutions and linear layers, 0 otherwise.
        weight_count: Number of weight and bias elements.
        block: Name of the network block that the layer belongs to (for example ``"cells.3"``
            or ``"layer2.1"``). Layers of one block may overlap in time.
    """

    name: str
    kind: str
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    kernel_size: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    groups: int = 1
    macs: int = 0
    weight_count: int = 0
    block: str = ""

    def __post_init__(self) -> None:
        if self.kind not in LAYER_KINDS:
            raise ValueError(f"Unknown layer kind {self.kind!r}; expected one of {LAYER_KINDS}.")

    @property
    def in_channels(self) -> int:
        """Number of input channels (input features for linear layers)."""
        return self.in_shape[0]

    @property
    def out_channels(self) -> int:
        """Number of output channels (output features for linear layers)."""
        return self.out_shape[0]

    @property
    def input_elements(self) -> int:
        """Number of input activation elements."""
        channels, height, width = self.in_shape
        return channels * height * width

    @property
    def output_elements(self) -> int:
        """Number of output activation elements."""
        channels, height, width = self.out_shape
        return channels * height * width

    @property
    def weight_bytes(self) -> int:
        """Weight and bias bytes at 16-bit fixed point."""
        return self.weight_count * BYTES_PER_ELEMENT

    @property
    def activation_bytes(self) -> int:
        """Input plus output activation bytes at 16-bit fixed point."""
        return (self.input_elements + self.output_elements) * BYTES_PER_ELEMENT

    @property
    def is_prunable(self) -> bool:
        """Whether sparsity applies to this layer (convolutions and linear layers)."""
        return self.kind in (CONV, LINEAR)

    @cached_property
    def cost_id(self) -> int:
        """Integer id shared by all workloads with the same :meth:`cost_key`."""
        return _COST_IDS.setdefault(self.cost_key(), len(_COST_IDS))

    def cost_key(self) -> tuple:
        """Return everything that determines the layer's cost, without its name and block."""
        return (
            self.kind,
            self.in_shape,
            self.out_shape,
            self.kernel_size,
            self.stride,
            self.groups,
            self.macs,
            self.weight_count,
        )
