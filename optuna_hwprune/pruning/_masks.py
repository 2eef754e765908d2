"""Magnitude masks and their application through ``torch.nn.utils.prune``.

A mask is a tensor of the weight's shape holding 1.0 where the weight is kept and 0.0 where it
is pruned. :func:`apply_masks` installs it with ``torch.nn.utils.prune.custom_from_mask``: the
layer's parameter becomes ``weight_orig``, the mask becomes the buffer ``weight_mask``, and a
forward pre-hook computes ``weight = weight_orig * weight_mask``. The gradient that reaches
``weight_orig`` is therefore zero at pruned positions, and because the pruned entries of
``weight_orig`` are zeroed too, SGD momentum and weight decay leave them at exactly zero.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn
from torch.nn.utils import prune

from optuna_hwprune.pruning._layers import prunable_layers


def _check_sparsity(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(
            f"sparsity of layer {name!r} must be in [0, 1) (1.0 would remove the layer), "
            f"got {value}."
        )
    return value


def _unstructured_mask(weight: torch.Tensor, sparsity: float) -> torch.Tensor:
    # Round to the nearest count and keep at least one weight, so the measured sparsity is the
    # closest achievable value to the request.
    numel = weight.numel()
    pruned = min(round(sparsity * numel), numel - 1)
    mask = torch.ones(numel, dtype=weight.dtype, device=weight.device)
    if pruned > 0:
        # A stable sort breaks ties between equal magnitudes by position, so masks are
        # deterministic.
        order = torch.sort(weight.detach().abs().flatten(), stable=True).indices
        mask[order[:pruned]] = 0.0
    return mask.view_as(weight)


def _structured_mask(weight: torch.Tensor, sparsity: float) -> torch.Tensor:
    # Filters (output channels of a Conv2d, output rows of a Linear) ranked by L1 norm.
    filters = weight.shape[0]
    pruned = min(round(sparsity * filters), filters - 1)
    keep = torch.ones(filters, dtype=weight.dtype, device=weight.device)
    if pruned > 0:
        norms = weight.detach().abs().flatten(1).sum(dim=1)
        order = torch.sort(norms, stable=True).indices
        keep[order[:pruned]] = 0.0
    return keep.view(-1, *([1] * (weight.dim() - 1))).expand_as(weight).clone()


class _DetachMaskedWeight:
    """Forward hook that replaces the computed ``weight`` attribute by a detached copy.

    The pre-hook of ``torch.nn.utils.prune`` leaves ``weight = weight_orig * weight_mask`` as a
    non-leaf tensor on the module, which ``copy.deepcopy`` rejects. The forward pass has already
    recorded what backpropagation needs, so the attribute can be detached afterwards.
    """

    def __call__(self, module: nn.Module, args: object, output: object) -> None:
        weight = getattr(module, "weight", None)
        if isinstance(weight, torch.Tensor) and weight.grad_fn is not None:
            setattr(module, "weight", weight.detach())


def _remove_detach_hooks(module: nn.Module) -> None:
    for key, hook in list(module._forward_hooks.items()):
        if isinstance(hook, _DetachMaskedWeight):
            del module._forward_hooks[key]


def _dense_weight(module: nn.Module) -> torch.Tensor:
    # The current effective weight, whether or not the layer is already masked.
    if prune.is_pruned(module) and hasattr(module, "weight_orig"):
        return module.weight_orig * module.weight_mask
    return module.weight


def magnitude_masks(
    model: nn.Module,
    sparsity: Mapping[str, float],
    structured: bool = False,
) -> dict[str, torch.Tensor]:
    """Compute magnitude-pruning masks for the requested per-layer sparsities.

    Args:
        model: The model whose prunable layers (:func:`prunable_layers`) are masked.
        sparsity: Fraction in ``[0, 1)`` to prune per layer name. Missing layers stay dense.
        structured: When ``False``, prune the individual weights of smallest magnitude, so
            ``round(sparsity * numel)`` weights are zero. When ``True``, prune whole filters
            (output channels) of smallest L1 norm, ``round(sparsity * out_channels)`` of them.
            Either way at least one weight or filter stays.

    Returns:
        One mask per layer named in ``sparsity``, with the weight's shape, dtype and device.

    Raises:
        ValueError: If a name is not a prunable layer or a sparsity is outside ``[0, 1)``.
    """
    layers = prunable_layers(model)
    unknown = sorted(set(sparsity) - set(layers))
    if unknown:
        raise ValueError(
            f"unknown layer name(s) {unknown}; prunable layers are {', '.join(layers)}."
        )

    make_mask = _structured_mask if structured else _unstructured_mask
    masks = {}
    for name, value in sparsity.items():
        value = _check_sparsity(name, value)
        masks[name] = make_mask(_dense_weight(layers[name]), value)
    return masks


def apply_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> nn.Module:
    """Install masks on the named layers so that they stay applied through training.

    A layer that already has a mask gets the new one in its place (the old mask is folded
    into the weight first, so pruning never revives weights).

    Args:
        model: The model to mask in place.
        masks: Masks keyed by layer name, as returned by :func:`magnitude_masks`.

    Returns:
        ``model``, for chaining.

    Raises:
        ValueError: If a name is unknown or a mask's shape differs from the weight's.
    """
    layers = prunable_layers(model)
    for name, mask in masks.items():
        if name not in layers:
            raise ValueError(f"unknown layer name {name!r}; prunable layers are {', '.join(layers)}.")
        module = layers[name]
        if prune.is_pruned(module) and hasattr(module, "weight_orig"):
            _remove_detach_hooks(module)
            prune.remove(module, "weight")
        if tuple(mask.shape) != tuple(module.weight.shape):
            raise ValueError(
                f"mask for {name!r} has shape {tuple(mask.shape)}, "
                f"expected the weight's shape {tuple(module.weight.shape)}."
            )
        mask = mask.to(device=module.weight.device, dtype=module.weight.dtype)
        with torch.no_grad():
            module.weight.mul_(mask)
        prune.custom_from_mask(module, "weight", mask)
        module.register_forward_hook(_DetachMaskedWeight())
        module.weight = module.weight.detach()
    return model


def remove_masks(model: nn.Module) -> nn.Module:
    """Fold every mask into its weight, leaving a plain model whose pruned weights are zero.

    The result's ``state_dict`` loads into a model from :func:`build_model` without masks.

    Returns:
        ``model``, for chaining.
    """
    for module in model.modules():
        if hasattr(module, "weight_orig") and hasattr(module, "weight_mask"):
            _remove_detach_hooks(module)
            prune.remove(module, "weight")
    return model


def masks_from_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Extract the masks of a masked model's ``state_dict`` (its ``<layer>.weight_mask`` entries)."""
    suffix = ".weight_mask"
    return {key[: -len(suffix)]: value for key, value in state_dict.items() if key.endswith(suffix)}


def load_masked_state_dict(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> nn.Module:
    """Load the ``state_dict`` of a masked model into an unmasked model of the same architecture.

    The masks stored in ``state_dict`` are installed first, so the loaded model keeps them
    applied through further training.

    Returns:
        ``model``, for chaining.
    """
    masks = masks_from_state_dict(state_dict)
    apply_masks(model, {name: torch.ones_like(mask) for name, mask in masks.items()})
    model.load_state_dict(state_dict)
    return model


def layer_sparsity(model: nn.Module) -> dict[str, float]:
    """Measure the fraction of exactly-zero weights of every prunable layer.

    Returns:
        Sparsity per layer name, from the effective weights (``weight_orig * weight_mask`` on a
        masked layer).
    """
    measured = {}
    for name, module in prunable_layers(model).items():
        weight = _dense_weight(module).detach()
        measured[name] = float((weight == 0).sum()) / weight.numel()
    return measured


def count_nonzero_parameters(model: nn.Module) -> int:
    """Count the non-zero entries of every parameter, with masks applied."""
    total = 0
    for module in model.modules():
        for name, parameter in module.named_parameters(recurse=False):
            if name == "weight_orig" and hasattr(module, "weight_mask"):
                parameter = parameter * module.weight_mask
            total += int(torch.count_nonzero(parameter.detach()))
    return total
