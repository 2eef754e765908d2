"""Discovery of the prunable layers of a model, under the stable names of ``named_modules``."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from torch import nn

DEFAULT_LAYER_TYPES: tuple[type[nn.Module], ...] = (nn.Conv2d, nn.Linear)


def prunable_layers(
    model: nn.Module,
    layer_types: tuple[type[nn.Module], ...] = DEFAULT_LAYER_TYPES,
) -> dict[str, nn.Module]:
    """Find the layers whose ``weight`` can be pruned.

    Args:
        model: The model to inspect.
        layer_types: Module classes that count as prunable (every ``Conv2d`` and ``Linear`` by
            default).

    Returns:
        Layers keyed by their name in ``model.named_modules()`` (for example
        ``"layer1.0.conv1"`` or ``"fc"``), in definition order. The names are the keys that
        :func:`magnitude_masks`, the hardware estimator and the objective's parameters share.
    """
    return {
        name: module
        for name, module in model.named_modules()
        if name and isinstance(module, layer_types)
    }


def select_layers(names: Sequence[str], patterns: Sequence[str] | None) -> list[str]:
    """Keep the layer names that match any of the shell-style ``patterns``.

    Args:
        names: Candidate layer names, in model order.
        patterns: ``fnmatch`` patterns such as ``"layer*"`` or ``"fc"``; ``None`` keeps every name.

    Returns:
        The matching names, in model order.

    Raises:
        ValueError: If a pattern matches no layer, so that a typo does not silently leave
            layers dense.
    """
    if patterns is None:
        return list(names)
    unmatched = [p for p in patterns if not fnmatch.filter(names, p)]
    if unmatched:
        raise ValueError(
            f"layer pattern(s) {unmatched} match no prunable layer; "
            f"available layers: {', '.join(names)}."
        )
    return [name for name in names if any(fnmatch.fnmatchcase(name, p) for p in patterns)]
