"""Train and evaluate a classifier on an in-memory dataset.

The recipe suits datasets of a few hundred images trained for a few epochs. It uses AdamW or
SGD with Nesterov momentum and a linear learning-rate warm-up followed by a cosine decay to
zero over all optimisation steps. Label smoothing and light augmentation (random crop with
2-pixel padding, horizontal flip) are optional. The model keeps the weights of the epoch with
the best validation accuracy.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from optuna_hwprune.datasets import ImageDataset

from optuna_hwprune.nasbench.objective import OPTIMIZERS

EVAL_BATCH_SIZE = 256
# Fraction of the optimisation steps spent warming the learning rate up from zero.
WARMUP_FRACTION = 0.1
CROP_PADDING = 2


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    Attributes:
        best_val_accuracy: Validation accuracy of the best epoch (the weights left in the model).
        best_epoch: That epoch, counted from 1.
        val_accuracies: Validation accuracy after each epoch.
        train_loss: Mean training loss of the last epoch.
        steps: Optimisation steps taken.
    """

    best_val_accuracy: float
    best_epoch: int
    val_accuracies: list[float]
    train_loss: float
    steps: int


@contextlib.contextmanager
def torch_threads(num_threads: int | None) -> Iterator[None]:
    """Run the body with ``num_threads`` intra-op CPU threads, then restore the previous count.

    Args:
        num_threads: Thread count; None keeps torch's current setting.
    """
    if num_threads is None:
        yield
        return
    if num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads}")
    previous = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


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

    model.to(device).eval()
    outputs = [model(x).cpu() for x, _ in iterate_batches(dataset, EVAL_BATCH_SIZE, device=device)]
    return torch.cat(outputs)


def evaluate(model: nn.Module, dataset: ImageDataset, device: torch.device) -> float:
    """Return the top-1 accuracy of ``model`` on ``dataset``."""
    return accuracy(predict(model, dataset, device), dataset.labels)


def warmup_cosine(total_steps: int, warmup_fraction: float = WARMUP_FRACTION):
    """Return the learning-rate factor of each step: linear warm-up, then cosine decay to zero.

    Args:
        total_steps: Optimisation steps of the whole run.
        warmup_fraction: Share of ``total_steps`` spent in the warm-up (at least one step).

    Returns:
        A function of the step index for :class:`torch.optim.lr_scheduler.LambdaLR`.
    """
    warmup = max(1, round(total_steps * warmup_fraction))
    decay = max(1, total_steps - warmup)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1.0 + math.cos(math.pi * min(step - warmup, decay) / decay))

    return factor


def make_optimizer(
    name: str, parameters: Iterable[nn.Parameter], lr: float, weight_decay: float
) -> torch.optim.Optimizer:
    """Create ``"adamw"`` (decoupled weight decay) or ``"sgd"`` (Nesterov momentum 0.9).

    Raises:
        ValueError: If ``name`` is not one of :data:`OPTIMIZERS`.
    """
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; valid: {', '.join(OPTIMIZERS)}")


def light_augment(x: torch.Tensor, generator: torch.Generator, pad: int = CROP_PADDING) -> torch.Tensor:
    """Randomly crop ``x`` (B x C x H x W) after zero padding by ``pad`` and flip half horizontally.

    The batch is already normalised, so the padding has the dataset's mean value.
    """
    batch, _, height, width = x.shape
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    out = torch.empty_like(x)
    offsets = torch.randint(0, 2 * pad + 1, (batch, 2), generator=generator).tolist()
    flips = (torch.rand(batch, generator=generator) < 0.5).tolist()
    for i, ((dy, dx), flip) in enumerate(zip(offsets, flips)):
        crop = padded[i, :, dy : dy + height, dx : dx + width]
        out[i] = crop.flip(-1) if flip else crop
    return out


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
    optimizer: str = "adamw",
    label_smoothing: float = 0.0,
    val: ImageDataset | None = None,
) -> TrainResult:
    """Train ``model`` with warm-up and cosine learning-rate decay per step.

    Args:
        model: The network. On return it contains the weights of the best validation epoch (the
            last epoch when ``val`` is None).
        dataset: Training split.
        epochs: Passes over ``dataset``.
        batch_size: Images per step; the last, smaller batch of an epoch is dropped unless it is
            the only one.
        lr: Peak learning rate.
        weight_decay: Weight decay (decoupled for AdamW).
        augment: Apply :func:`light_augment` to training batches.
        device: Torch device.
        seed: Seed of the batch order and the augmentation.
        optimizer: One of :data:`OPTIMIZERS`.
        label_smoothing: Label smoothing of the cross-entropy loss, in [0, 1).
        val: Validation split, evaluated after every epoch.

    Returns:
        The validation accuracies, the best epoch and the last training loss.
    """
    from optuna_hwprune.datasets import iterate_batches

    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    model.to(device).train()
    opt = make_optimizer(optimizer, model.parameters(), lr, weight_decay)
    # Dropping the ragged last batch keeps BatchNorm statistics stable on tiny datasets.
    full = len(dataset) // batch_size
    steps_per_epoch = full if full else 1
    total_steps = epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(total_steps))
    loss_function = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    generator = torch.Generator().manual_seed(seed)

    best_accuracy, best_epoch, best_state = -1.0, 0, None
    history: list[float] = []
    last_loss = math.nan
    steps = 0
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        batches = iterate_batches(dataset, batch_size, shuffle=True, seed=seed * 1000 + epoch, device=device)
        for step, (x, y) in enumerate(batches):
            if step >= steps_per_epoch:
                break
            if augment:
                x = light_augment(x, generator)
            opt.zero_grad(set_to_none=True)
            loss = loss_function(model(x), y)
            loss.backward()
            opt.step()
            scheduler.step()
            steps += 1
            total += loss.item() * len(y)
            count += len(y)
        last_loss = total / max(count, 1)
        if val is not None:
            history.append(evaluate(model, val, device))
            if history[-1] > best_accuracy:
                best_accuracy, best_epoch = history[-1], epoch + 1
                best_state = copy.deepcopy(model.state_dict())
    if best_state is not None and best_epoch != epochs:
        model.load_state_dict(best_state)
    if val is None:
        best_epoch = epochs
    return TrainResult(best_accuracy, best_epoch, history, last_loss, steps)
