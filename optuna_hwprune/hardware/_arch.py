"""NAS-Bench-201 workloads computed from an architecture string, without building the network."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from optuna_hwprune.hardware._workload import ACTIVATION
from optuna_hwprune.hardware._workload import ADD
from optuna_hwprune.hardware._workload import BATCHNORM
from optuna_hwprune.hardware._workload import CONV
from optuna_hwprune.hardware._workload import LayerWorkload
from optuna_hwprune.hardware._workload import LINEAR
from optuna_hwprune.hardware._workload import POOL
from optuna_hwprune.nasbench.space import arch_to_ops
from optuna_hwprune.nasbench.space import EDGES
from optuna_hwprune.nasbench.space import OPS


# Input resolution and class count of the three NAS-Bench-201 datasets.
NB201_DATASETS: dict[str, tuple[int, int]] = {
    "cifar10": (32, 10),
    "cifar100": (32, 100),
    "ImageNet16-120": (16, 120),
}
_DATASET_ALIASES = {name.lower(): name for name in NB201_DATASETS}
_DATASET_ALIASES["imagenet16"] = "ImageNet16-120"

# The NAS-Bench-201 macro network (TinyNetwork, C=16, N=5): a 3x3 stem, three stages of five
# cells with 16, 32 and 64 channels, and a stride-2 residual block before stages two and three.
_STEM_CHANNELS = 16
_CELLS_PER_STAGE = 5
_STAGE_CHANNELS = (16, 32, 64)



def canonical_dataset(dataset: str) -> str:
    """Return the NAS-Bench-201 spelling of ``dataset`` (``cifar10``, ``cifar100``, ``ImageNet16-120``)."""
    try:
        return _DATASET_ALIASES[dataset.lower()]
    except (KeyError, AttributeError):
        raise ValueError(
            f"Unknown NAS-Bench-201 dataset {dataset!r}; expected one of {tuple(NB201_DATASETS)}."
        ) from None


def _conv(name: str, block: str, c_in: int, c_out: int, size: int, kernel: int, stride: int) -> LayerWorkload:
    out_size = (size + 2 * (kernel // 2) - kernel) // stride + 1
    return LayerWorkload(
        name=name,
        kind=CONV,
        in_shape=(c_in, size, size),
        out_shape=(c_out, out_size, out_size),
        kernel_size=(kernel, kernel),
        stride=(stride, stride),
        macs=c_out * out_size * out_size * c_in * kernel * kernel,
        weight_count=c_out * c_in * kernel * kernel,
        block=block,
    )


def _batchnorm(name: str, block: str, channels: int, size: int) -> LayerWorkload:
    shape = (channels, size, size)
    return LayerWorkload(
        name=name, kind=BATCHNORM, in_shape=shape, out_shape=shape, weight_count=2 * channels, block=block
    )


def _elementwise(name: str, kind: str, block: str, channels: int, size: int) -> LayerWorkload:
    shape = (channels, size, size)
    return LayerWorkload(name=name, kind=kind, in_shape=shape, out_shape=shape, block=block)


def _relu_conv_bn(
    prefix: str, block: str, c_in: int, c_out: int, size: int, kernel: int, stride: int
) -> tuple[LayerWorkload, ...]:
    conv = _conv(f"{prefix}.1", block, c_in, c_out, size, kernel, stride)
    return (
        _elementwise(f"{prefix}.0", ACTIVATION, block, c_in, size),
        conv,
        _batchnorm(f"{prefix}.2", block, c_out, conv.out_shape[1]),
    )


def _edge_workloads(prefix: str, block: str, op: str, channels: int, size: int) -> tuple[LayerWorkload, ...]:
    if op == "nor_conv_3x3":
        return _relu_conv_bn(prefix, block, channels, channels, size, 3, 1)
    if op == "nor_conv_1x1":
        return _relu_conv_bn(prefix, block, channels, channels, size, 1, 1)
    if op == "avg_pool_3x3":
        shape = (channels, size, size)
        return (
            LayerWorkload(
                name=prefix,
                kind=POOL,
                in_shape=shape,
                out_shape=shape,
                kernel_size=(3, 3),
                stride=(1, 1),
                block=block,
            ),
        )
    # skip_connect is an identity and none multiplies by zero: neither is a layer.
    return ()


def _reduction_block(index: int, c_in: int, c_out: int, size: int) -> tuple[LayerWorkload, ...]:
    # ResNet basic block with stride 2: a shortcut of 2x2 average pooling and a 1x1
    # convolution, plus conv_a (3x3, stride 2) and conv_b (3x3), in the order they run.
    block = f"cells.{index}"
    half = size // 2
    return (
        LayerWorkload(
            name=f"{block}.shortcut.0",
            kind=POOL,
            in_shape=(c_in, size, size),
            out_shape=(c_in, half, half),
            kernel_size=(2, 2),
            stride=(2, 2),
            block=block,
        ),
        _conv(f"{block}.shortcut.1", block, c_in, c_out, half, 1, 1),
        *_relu_conv_bn(f"{block}.conv_a", block, c_in, c_out, size, 3, 2),
        *_relu_conv_bn(f"{block}.conv_b", block, c_out, c_out, half, 3, 1),
        _elementwise(f"{block}.add.0", ADD, block, c_out, half),
    )


@lru_cache(maxsize=None)
def _templates(dataset: str) -> tuple[
    tuple[LayerWorkload, ...],
    tuple[tuple[int, int, int, tuple[tuple[LayerWorkload, ...], ...]], ...],
    dict[int, tuple[LayerWorkload, ...]],
    tuple[LayerWorkload, ...],
]:
    """Pre-built workloads: stem, per-cell edge options, reduction blocks and head."""
    size, num_classes = NB201_DATASETS[dataset]
    stem = (
        _conv("stem.0", "stem", 3, _STEM_CHANNELS, size, 3, 1),
        _batchnorm("stem.1", "stem", _STEM_CHANNELS, size),
    )

    cells = []
    reductions = {}
    index = 0
    channels = _STEM_CHANNELS
    for stage, stage_channels in enumerate(_STAGE_CHANNELS):
        if stage > 0:
            reductions[index] = _reduction_block(index, channels, stage_channels, size)
            index += 1
            size //= 2
        channels = stage_channels
        for _ in range(_CELLS_PER_STAGE):
            block = f"cells.{index}"
            options = tuple(
                tuple(
                    _edge_workloads(f"{block}.edges.{edge}", block, op, channels, size)
                    for op in OPS
                )
                for edge in range(len(EDGES))
            )
            cells.append((index, channels, size, options))
            index += 1

    head = (
        _batchnorm("head.0", "head", channels, size),
        _elementwise("head.1", ACTIVATION, "head", channels, size),
        LayerWorkload(
            name="pool",
            kind=POOL,
            in_shape=(channels, size, size),
            out_shape=(channels, 1, 1),
            kernel_size=(size, size),
            stride=(size, size),
            block="pool",
        ),
        LayerWorkload(
            name="classifier",
            kind=LINEAR,
            in_shape=(channels, 1, 1),
            out_shape=(num_classes, 1, 1),
            macs=channels * num_classes,
            weight_count=channels * num_classes + num_classes,
            block="classifier",
        ),
    )
    return stem, tuple(cells), reductions, head


@lru_cache(maxsize=None)
def _additions(index: int, channels: int, size: int) -> tuple[LayerWorkload, ...]:
    block = f"cells.{index}"
    return tuple(_elementwise(f"{block}.add.{k}", ADD, block, channels, size) for k in range(3))


def workloads_from_ops(ops: Sequence[str], dataset: str) -> list[LayerWorkload]:
    """Compute the workloads of the NAS-Bench-201 network whose cell has edge ops ``ops``.

    Args:
        ops: Six op names in arch-string edge order (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2),
            each one of :data:`optuna_hwprune.nasbench.space.OPS`.
        dataset: ``cifar10``, ``cifar100`` or ``ImageNet16-120``.

    Returns:
        The workloads in the order that a forward pass of
        :class:`optuna_hwprune.nasbench.network.CellNetwork` runs them, with its module names
        (``stem.0``, ``cells.3.edges.2.1``, ``cells.5.conv_a.1``, ``classifier``).
    """
    if len(ops) != len(EDGES):
        raise ValueError(f"Expected {len(EDGES)} edge ops, got {len(ops)}: {tuple(ops)}.")
    try:
        op_ids = [OPS.index(op) for op in ops]
    except ValueError:
        raise ValueError(f"Unknown op in {tuple(ops)}; expected ops from {OPS}.") from None
    stem, cells, reductions, head = _templates(canonical_dataset(dataset))

    workloads = list(stem)
    for index, channels, size, options in cells:
        if index - 1 in reductions:
            workloads.extend(reductions[index - 1])
        first, second, third = _additions(index, channels, size)
        # Each node adds an edge output to its running sum as soon as that output exists.
        workloads.extend(options[0][op_ids[0]])
        workloads.extend(options[1][op_ids[1]])
        workloads.extend(options[2][op_ids[2]])
        workloads.append(first)
        workloads.extend(options[3][op_ids[3]])
        workloads.extend(options[4][op_ids[4]])
        workloads.append(second)
        workloads.extend(options[5][op_ids[5]])
        workloads.append(third)
    workloads.extend(head)
    return workloads


def workloads_from_arch(arch: str, dataset: str) -> list[LayerWorkload]:
    """Compute the workloads of a NAS-Bench-201 network from its architecture string.

    Args:
        arch: Architecture string such as
            ``"|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"``.
        dataset: ``cifar10``, ``cifar100`` or ``ImageNet16-120``; it sets the input size
            (32x32 or 16x16) and the classifier width (10, 100 or 120 classes).

    Returns:
        The same workloads, names included, that :func:`extract_workloads` returns for
        ``CellNetwork(arch, num_classes)`` on a batch of that dataset's images.
    """
    return workloads_from_ops(arch_to_ops(arch), dataset)
