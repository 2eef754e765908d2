"""CIFAR-sized ResNets: the standard CIFAR ResNets and torchvision's ResNet50 with a CIFAR stem."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


class _BasicBlock(nn.Module):
    """Two 3x3 convolutions with a parameter-free shortcut.

    When the block halves the resolution and doubles the width, the shortcut subsamples the
    input by 2 and zero-pads the new channels. This is the parameter-free shortcut ("option A")
    of the CIFAR-10 ResNets in He et al. (2016), "Deep Residual Learning for Image Recognition".
    Every convolution of the network is therefore on the residual branch.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.stride = stride
        self.extra_channels = out_channels - in_channels

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.extra_channels > 0:
            half = self.extra_channels // 2
            x = F.pad(x, (0, 0, 0, 0, half, self.extra_channels - half))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self._shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32x32 images: three stages of ``n`` basic blocks at 16, 32 and 64 channels.

    Args:
        depth: Number of weighted layers, ``6n + 2`` (20, 32, 44, 56, 110, ...).
        num_classes: Number of output classes.
        in_channels: Number of input image channels.
    """

    def __init__(self, depth: int, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6 != 0:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (20, 56, ...), got {depth}.")
        blocks = (depth - 2) // 6

        self.conv1 = nn.Conv2d(in_channels, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_stage(16, 16, blocks, stride=1)
        self.layer2 = self._make_stage(16, 32, blocks, stride=2)
        self.layer3 = self._make_stage(32, 64, blocks, stride=2)
        self.fc = nn.Linear(64, num_classes)

        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        # Zero-initialised last BN of each block: every block starts as the identity.
        for module in self.modules():
            if isinstance(module, _BasicBlock):
                nn.init.zeros_(module.bn2.weight)

    @staticmethod
    def _make_stage(in_channels: int, out_channels: int, blocks: int, stride: int) -> nn.Sequential:
        layers = [_BasicBlock(in_channels, out_channels, stride)]
        layers += [_BasicBlock(out_channels, out_channels, 1) for _ in range(blocks - 1)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def resnet20(num_classes: int = 10, in_channels: int = 3) -> CifarResNet:
    """ResNet-20 for CIFAR (about 0.27 M parameters, 41 M MACs per 32x32 image)."""
    return CifarResNet(20, num_classes, in_channels)


def resnet56(num_classes: int = 10, in_channels: int = 3) -> CifarResNet:
    """ResNet-56 for CIFAR (about 0.85 M parameters, 127 M MACs per 32x32 image)."""
    return CifarResNet(56, num_classes, in_channels)


def resnet50(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """torchvision's ResNet50 with a CIFAR stem.

    The 7x7 stride-2 stem convolution becomes a 3x3 stride-1 one and the max-pool is removed,
    so ``layer1`` runs on 32x32 feature maps on CIFAR images (about 23.5 M parameters and 1.3 G
    MACs per image).
    """
    from torchvision.models import resnet50 as torchvision_resnet50

    model = torchvision_resnet50(weights=None, num_classes=num_classes)
    model.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.maxpool = nn.Identity()
    return model


_MODELS: dict[str, Callable[..., nn.Module]] = {
    "resnet20": resnet20,
    "resnet56": resnet56,
    "resnet50": resnet50,
}

MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)


def build_model(name: str, num_classes: int, in_channels: int = 3) -> nn.Module:
    """Build an untrained CIFAR-sized model by name.

    Args:
        name: One of :data:`MODEL_NAMES` (``"resnet50"``, ``"resnet20"``, ``"resnet56"``).
        num_classes: Number of output classes.
        in_channels: Number of input image channels (3 for CIFAR-10, 1 for grey MedMNIST sets).

    Returns:
        The model with freshly initialised weights.

    Raises:
        ValueError: If ``name`` is unknown or a size is not positive.
    """
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}.")
    if num_classes < 1 or in_channels < 1:
        raise ValueError(
            f"num_classes and in_channels must be >= 1, got {num_classes} and {in_channels}."
        )
    return _MODELS[name](num_classes=num_classes, in_channels=in_channels)
