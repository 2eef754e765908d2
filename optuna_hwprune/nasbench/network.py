"""The NAS-Bench-201 cell network in torch.

The macro skeleton follows NAS-Bench-201's ``TinyNetwork`` (Dong and Yang, ICLR 2020). A 3x3
conv stem with ``C`` channels feeds three stages of ``N`` cells with ``C``, ``2C`` and ``4C``
channels, joined by two residual reduction blocks (stride 2). Batch norm, ReLU, global average
pooling and a linear classifier follow. Every convolution is ReLU -> Conv (no bias) ->
BatchNorm with affine parameters, so the parameter count of a network equals NAS-Bench-201's
for ``C=16, N=5``.
"""

from __future__ import annotations

import torch
from torch import nn

from optuna_hwprune.nasbench.space import EDGES, NUM_NODES, arch_to_ops

DEFAULT_CHANNELS = 16
DEFAULT_CELLS_PER_STAGE = 5


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution without bias, then batch norm."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels),
        )


class Zero(nn.Module):
    """The ``none`` operation: an all-zero output of the input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def _make_op(name: str, channels: int) -> nn.Module:
    if name == "skip_connect":
        return nn.Identity()
    if name == "none":
        return Zero()
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1)
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NAS-Bench-201 operation {name!r}")


class Cell(nn.Module):
    """One NAS-Bench-201 cell: node ``i`` is the sum of its incoming edge operations."""

    def __init__(self, ops: tuple[str, ...], channels: int) -> None:
        super().__init__()
        self.ops = ops
        self.edges = nn.ModuleList(_make_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in range(1, NUM_NODES):
            total = None
            for edge, (edge_target, source) in enumerate(EDGES):
                if edge_target != target:
                    continue
                out = self.edges[edge](nodes[source])
                total = out if total is None else total + out
            nodes.append(total)
        return nodes[-1]


class ResidualReduction(nn.Module):
    """Residual block that halves the resolution and changes the width between stages."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(in_channels, out_channels, 3, 2)
        self.conv_b = ReLUConvBN(out_channels, out_channels, 3, 1)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class CellNetwork(nn.Module):
    """NAS-Bench-201 network built from one cell, for any input channels and classes.

    Args:
        arch: NAS-Bench-201 arch string of the cell.
        num_classes: Number of output classes.
        in_channels: Image channels (1 for grey-scale, 3 for RGB).
        channels: Width ``C`` of the first stage.
        cells_per_stage: Number of cells ``N`` per stage.
    """

    def __init__(
        self,
        arch: str,
        num_classes: int,
        in_channels: int = 3,
        channels: int = DEFAULT_CHANNELS,
        cells_per_stage: int = DEFAULT_CELLS_PER_STAGE,
    ) -> None:
        super().__init__()
        if num_classes < 1 or in_channels < 1 or channels < 1 or cells_per_stage < 1:
            raise ValueError(
                "num_classes, in_channels, channels and cells_per_stage must be positive, got "
                f"{num_classes}, {in_channels}, {channels}, {cells_per_stage}"
            )
        self.ops = arch_to_ops(arch)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )

        blocks: list[nn.Module] = []
        width = channels
        for stage in range(3):
            if stage > 0:
                blocks.append(ResidualReduction(width, width * 2))
                width *= 2
            blocks.extend(Cell(self.ops, width) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*blocks)

        self.head = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(width, num_classes)
        # Channels-last weights and inputs let oneDNN use its fast CPU convolutions. With torch
        # 2.14 on a 2-core x86_64 VM, one 32x32 forward pass took 3 s in the default layout and
        # 0.03 s channels-last.
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        features = self.head(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(features), 1))


def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable parameters of ``model`` (batch-norm buffers excluded)."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


def count_macs(model: nn.Module, input_shape: tuple[int, int, int]) -> int:
    """Count multiply-accumulates of the convolution and linear layers for one image.

    Args:
        model: The network.
        input_shape: ``(channels, height, width)`` of one input image.

    Returns:
        MACs per image. Pooling, batch norm, activations and additions are not counted.
    """
    total = 0

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            per_output = kernel * module.in_channels // module.groups
            total += output.numel() * per_output
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    handles = [
        module.register_forward_hook(hook)
        for module in model.modules()
        if isinstance(module, (nn.Conv2d, nn.Linear))
    ]
    _forward_once(model, input_shape, handles)
    return int(total)


def estimate_memory_bytes(model: nn.Module, input_shape: tuple[int, int, int]) -> dict[str, int]:
    """Estimate inference memory of one image in float32: weights plus peak live activations.

    Activations are counted per top-level block (stem, each cell or reduction, head). A cell
    keeps all four node maps (its input included) alive until it returns, plus one edge output
    being summed, so its peak is ``NUM_NODES + 1`` maps of its output size. Other blocks keep
    their input and output at once.

    Args:
        model: A :class:`CellNetwork`.
        input_shape: ``(channels, height, width)`` of one input image.

    Returns:
        ``{"weights": ..., "peak_activations": ..., "total": ...}`` in bytes.
    """
    # NOTE: this assumes a runtime that frees each tensor once it is dead. Eager torch with
    # autograd enabled keeps more alive.
    bytes_per_value = 4
    peak = 0

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal peak
        if isinstance(module, Cell):
            live = (NUM_NODES + 1) * output.numel()
        else:
            live = inputs[0].numel() + output.numel()
        peak = max(peak, live)

    blocks = [model.stem, *model.cells, model.head] if isinstance(model, CellNetwork) else [model]
    handles = [block.register_forward_hook(hook) for block in blocks]
    _forward_once(model, input_shape, handles)

    weights = sum(tensor.numel() for tensor in model.state_dict().values() if tensor.is_floating_point())
    weight_bytes = weights * bytes_per_value
    activation_bytes = peak * bytes_per_value
    return {
        "weights": weight_bytes,
        "peak_activations": activation_bytes,
        "total": weight_bytes + activation_bytes,
    }


def _forward_once(
    model: nn.Module, input_shape: tuple[int, int, int], handles: list[torch.utils.hooks.RemovableHandle]
) -> None:
    """Run one zero image through ``model`` in eval mode, then remove ``handles``."""
    try:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
        model.train(was_training)
    finally:
        for handle in handles:
            handle.remove()
