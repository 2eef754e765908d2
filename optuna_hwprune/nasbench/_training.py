"""Train and evaluate a classifier on an in-memory dataset (SGD with cosine learning rate)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from optuna_hwprune.datasets import ImageDataset

EVAL_BATCH_SIZE = 256


def resolve_device(device: str) -> torch.device:
    """Map ``"auto"``, ``"cpu"`` or ``"cuda"`` to a torch device.

    Raises:
        ValueError: If ``device`` is unknown, or ``"cuda"`` is requested without a GPU.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}; use auto, cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch finds no CUDA GPU; use --device cpu")
    return torch.device(device)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Return the top-1 accuracy of ``logits`` against ``labels`` (shape ``N`` or ``N x 1``)."""
    labels = labels.reshape(-1)
    if logits.shape[0] != labels.shape[0]:
        raise ValueError(f"{logits.shape[0]} predictions but {labels.shape[0]} labels")
    return float((logits.argmax(dim=1) == labels).float().mean())


@torch.no_grad()
def predict(model: nn.Module, dataset: ImageDataset, device: torch.device) -> torch.Tensor:
    """Return the logits of ``model`` for every image of ``dataset``, on the CPU."""
    from optuna_hwprune.datasets import iterate_batches

    model.to(device, memory_format=torch.channels_last).eval()
    outputs = [model(x).cpu() for x, _ in iterate_batches(dataset, EVAL_BATCH_SIZE, device=device)]
    return torch.cat(outputs)


def evaluate(model: nn.Module, dataset: ImageDataset, device: torch.device) -> float:
    """Return the top-1 accuracy of ``model`` on ``dataset``."""
    return accuracy(predict(model, dataset, device), dataset.labels)


def train(
    model: nn.Module,
    dataset: ImageDataset,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    augment: bool,
    device: torch.device,
    seed: int,
) -> float:
    """Train ``model`` with SGD (Nesterov momentum 0.9) and a per-step cosine learning rate.

    Returns:
        The mean training loss of the last epoch.
    """
    from optuna_hwprune.datasets import iterate_batches

    # Channels-last weights let oneDNN pick its fast convolution kernels on CPU.
    model.to(device, memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay
    )
    steps = epochs * math.ceil(len(dataset) / batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    loss_function = nn.CrossEntropyLoss()

    last_loss = math.nan
    for epoch in range(epochs):
        total, count = 0.0, 0
        batches = iterate_batches(
            dataset, batch_size, shuffle=True, seed=seed * 1000 + epoch, augment=augment, device=device
        )
        for x, y in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(y)
            count += len(y)
        last_loss = total / max(count, 1)
    return last_loss
