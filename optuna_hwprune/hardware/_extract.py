"""Workload extraction from a torch model by running one forward pass with hooks."""

from __future__ import annotations

from collections import Counter
import math
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from optuna_hwprune.hardware._workload import ACTIVATION
from optuna_hwprune.hardware._workload import ADD
from optuna_hwprune.hardware._workload import BATCHNORM
from optuna_hwprune.hardware._workload import CONV
from optuna_hwprune.hardware._workload import LayerWorkload
from optuna_hwprune.hardware._workload import LINEAR
from optuna_hwprune.hardware._workload import POOL


_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
_POOLS = (
    nn.AvgPool2d,
    nn.MaxPool2d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
)
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
_ACTIVATIONS = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.SiLU,
    nn.GELU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Mish,
    nn.ELU,
)
_ADD_FUNCTIONS = {
    torch.add,
    torch.Tensor.add,
    torch.Tensor.add_,
    torch.Tensor.__add__,
    torch.Tensor.__radd__,
    torch.Tensor.__iadd__,
}


def _chw(tensor: torch.Tensor) -> tuple[int, int, int]:
    # Shape of one sample: (C, H, W) for feature maps, (features, 1, 1) for vectors. Extra
    # leading dimensions of a linear layer's input (tokens) are folded into the height.
    shape = tuple(tensor.shape[1:])
    if len(shape) == 3:
        return (int(shape[0]), int(shape[1]), int(shape[2]))
    if len(shape) == 1:
        return (int(shape[0]), 1, 1)
    if len(shape) == 2:
        return (int(shape[1]), int(shape[0]), 1)
    if len(shape) == 0:
        return (1, 1, 1)
    return (int(shape[0]), int(math.prod(shape[1:])), 1)


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return (int(value[0]), int(value[-1]))
    return (int(value), int(value))


def _parameter_count(module: nn.Module) -> int:
    return sum(int(tensor.numel()) for tensor in (module.weight, module.bias) if tensor is not None)


def _block_of(name: str, modules: dict[str, nn.Module]) -> str:
    # The outermost ancestor that is not a plain container is the layer's block (for example
    # "cells.3" or "layer2.1"). Layers directly under the root, or under containers only,
    # belong to the block named by their top-level module ("stem", "fc").
    parts = name.split(".")
    for end in range(1, len(parts)):
        prefix = ".".join(parts[:end])
        if not isinstance(modules[prefix], _CONTAINERS):
            return prefix
    return parts[0]


class _AdditionRecorder(TorchFunctionMode):
    """Records tensor + tensor additions, attributed to the module whose forward runs them."""

    def __init__(self, extractor: "_Extractor") -> None:
        super().__init__()
        self._extractor = extractor

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if func in _ADD_FUNCTIONS and len(args) >= 2:
            first, second = args[0], args[1]
            if isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor):
                self._extractor.record_addition(result)
        return result


class _Extractor:
    def __init__(self, model: nn.Module) -> None:
        self.modules = dict(model.named_modules())
        self.names = {id(module): name for name, module in self.modules.items()}
        self.workloads: list[LayerWorkload] = []
        self.calls: Counter[str] = Counter()
        self.stack: list[str] = []
        self.additions: Counter[str] = Counter()

    def push(self, module: nn.Module, _inputs: Any) -> None:
        self.stack.append(self.names[id(module)])

    def pop_and_record(self, module: nn.Module, inputs: Any, output: Any) -> None:
        name = self.stack.pop()
        if not inputs or not isinstance(inputs[0], torch.Tensor):
            return
        if not isinstance(output, torch.Tensor):
            return
        workload = self._describe(name, module, inputs[0], output)
        if workload is not None:
            self.workloads.append(workload)

    def record_addition(self, result: torch.Tensor) -> None:
        owner = self.stack[-1] if self.stack else ""
        index = self.additions[owner]
        self.additions[owner] += 1
        name = f"{owner}.add.{index}" if owner else f"add.{index}"
        # The module running the addition counts as an ancestor of it.
        block = _block_of(name, self.modules) if owner else name
        shape = _chw(result)
        self.workloads.append(
            LayerWorkload(name=name, kind=ADD, in_shape=shape, out_shape=shape, block=block)
        )

    def _unique(self, name: str, keep_name: bool) -> str:
        call = self.calls[name]
        self.calls[name] += 1
        if call == 0 or keep_name:
            return name
        return f"{name}:{call}"

    def _describe(
        self, name: str, module: nn.Module, inputs: torch.Tensor, output: torch.Tensor
    ) -> LayerWorkload | None:
        in_shape = _chw(inputs)
        out_shape = _chw(output)
        block = _block_of(name, self.modules)
        if isinstance(module, nn.Conv2d):
            kernel = _pair(module.kernel_size)
            macs = (
                out_shape[0]
                * out_shape[1]
                * out_shape[2]
                * (module.in_channels // module.groups)
                * kernel[0]
                * kernel[1]
            )
            return LayerWorkload(
                name=self._unique(name, keep_name=True),
                kind=CONV,
                in_shape=in_shape,
                out_shape=out_shape,
                kernel_size=kernel,
                stride=_pair(module.stride),
                groups=int(module.groups),
                macs=int(macs),
                weight_count=_parameter_count(module),
                block=block,
            )
        if isinstance(module, nn.Linear):
            rows = int(math.prod(inputs.shape[1:-1])) if inputs.dim() > 2 else 1
            return LayerWorkload(
                name=self._unique(name, keep_name=True),
                kind=LINEAR,
                in_shape=(module.in_features, rows, 1),
                out_shape=(module.out_features, rows, 1),
                macs=module.in_features * module.out_features * rows,
                weight_count=_parameter_count(module),
                block=block,
            )
        if isinstance(module, _POOLS):
            if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
                kernel = (
                    math.ceil(in_shape[1] / out_shape[1]),
                    math.ceil(in_shape[2] / out_shape[2]),
                )
                stride = (in_shape[1] // out_shape[1], in_shape[2] // out_shape[2])
            else:
                kernel = _pair(module.kernel_size)
                stride = _pair(module.stride if module.stride is not None else module.kernel_size)
            return LayerWorkload(
                name=self._unique(name, keep_name=False),
                kind=POOL,
                in_shape=in_shape,
                out_shape=out_shape,
                kernel_size=kernel,
                stride=stride,
                block=block,
            )
        if isinstance(module, _BATCHNORMS + _ACTIVATIONS):
            is_batchnorm = isinstance(module, _BATCHNORMS)
            return LayerWorkload(
                name=self._unique(name, keep_name=False),
                kind=BATCHNORM if is_batchnorm else ACTIVATION,
                in_shape=in_shape,
                out_shape=out_shape,
                weight_count=2 * int(module.num_features) if is_batchnorm else 0,
                block=block,
            )
        return None


def extract_workloads(model: nn.Module, sample_input: torch.Tensor) -> list[LayerWorkload]:
    """Extract per-layer workloads by running ``model`` once on ``sample_input``.

    Conv2d, Linear, pooling, batch norm and activation modules are recorded through forward
    hooks, and tensor + tensor additions (``+``, ``+=``, ``torch.add``, ``sum`` of tensors)
    through a ``TorchFunctionMode``. Figures are per sample, whatever the batch size of
    ``sample_input``. The model runs in eval mode without gradients, and its training flag is
    restored afterwards.

    NOTE: functional calls (``torch.relu``, ``F.max_pool2d``) and modules of other types are
    not recorded; channel concatenation and views are free.

    Args:
        model: Any ``nn.Module`` made of the layer types above.
        sample_input: One input batch, for example ``torch.zeros(1, 3, 32, 32)``.

    Returns:
        The workloads in execution order.
    """
    if not isinstance(sample_input, torch.Tensor):
        raise TypeError(f"sample_input must be a torch.Tensor, got {type(sample_input).__name__}.")
    if sample_input.dim() < 2:
        raise ValueError(
            f"sample_input must have a batch dimension, got shape {tuple(sample_input.shape)}."
        )

    extractor = _Extractor(model)
    handles = []
    for module in extractor.modules.values():
        if module is model:
            continue
        handles.append(module.register_forward_pre_hook(extractor.push))
        handles.append(module.register_forward_hook(extractor.pop_and_record))

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), _AdditionRecorder(extractor):
            model(sample_input)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return extractor.workloads
