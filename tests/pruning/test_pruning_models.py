"""CIFAR model variants and prunable-layer discovery."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from optuna_hwprune.pruning import build_model, prunable_layers, select_layers


def _parameters(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def test_resnet20_size_and_layers() -> None:
    model = build_model("resnet20", num_classes=10)
    # He et al. (2016), table 6: ResNet-20 has 0.27 M parameters.
    assert _parameters(model) == pytest.approx(0.27e6, rel=0.02)
    layers = prunable_layers(model)
    assert len(layers) == 20
    assert list(layers)[:3] == ["conv1", "layer1.0.conv1", "layer1.0.conv2"]
    assert list(layers)[-1] == "fc"


def test_resnet56_size() -> None:
    # He et al. (2016), table 6: ResNet-56 has 0.85 M parameters.
    assert _parameters(build_model("resnet56", num_classes=10)) == pytest.approx(0.85e6, rel=0.02)


def test_resnet50_cifar_stem() -> None:
    model = build_model("resnet50", num_classes=10)
    assert model.conv1.kernel_size == (3, 3)
    assert model.conv1.stride == (1, 1)
    assert isinstance(model.maxpool, nn.Identity)

    shapes = {}
    model.layer1.register_forward_hook(lambda module, args, output: shapes.update(layer1=output.shape))
    model.eval()
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 32, 32))
    assert tuple(shapes["layer1"][-2:]) == (32, 32)
    assert tuple(logits.shape) == (1, 10)
    # Every Conv2d and the final Linear: 53 convolutions (including 4 downsample) + fc.
    assert len(prunable_layers(model)) == 54


def test_models_accept_grey_images() -> None:
    for name in ("resnet20", "resnet50"):
        model = build_model(name, num_classes=2, in_channels=1).eval()
        with torch.no_grad():
            assert tuple(model(torch.zeros(2, 1, 28, 28)).shape) == (2, 2)


def test_build_model_rejects_unknown_name() -> None:
    with pytest.raises(ValueError, match="resnet18.*resnet20"):
        build_model("resnet18", num_classes=10)


def test_select_layers_patterns() -> None:
    names = list(prunable_layers(build_model("resnet20", num_classes=10)))
    assert select_layers(names, None) == names
    assert select_layers(names, ["fc", "conv1"]) == ["conv1", "fc"]
    assert len(select_layers(names, ["layer3.*"])) == 6


def test_select_layers_rejects_unmatched_pattern() -> None:
    with pytest.raises(ValueError, match="layer4"):
        select_layers(["conv1", "fc"], ["layer4.*"])
