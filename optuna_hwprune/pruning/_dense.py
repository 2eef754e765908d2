"""The dense starting point of a pruning study: load a checkpoint, reuse a cached one, or train."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from optuna_hwprune.datasets import ImageDataset
from optuna_hwprune.pruning._checkpoint import (
    dense_checkpoint_name,
    load_dense_checkpoint,
    save_dense_checkpoint,
)
from optuna_hwprune.pruning._engine import StepCallback, train_dense
from optuna_hwprune.pruning._models import build_model

_logger = logging.getLogger(__name__)


@dataclass
class DenseModel:
    """A trained dense model and where it came from.

    Attributes:
        model: The model, on the CPU, without masks.
        source: ``"checkpoint"`` (``--checkpoint``), ``"cache"`` (an earlier run's cached
            training) or ``"trained"`` (trained by this call).
        path: File the model was loaded from or saved to.
        metadata: Facts stored with the checkpoint (training epochs, seed, time).
    """

    model: nn.Module
    source: str
    path: Path
    metadata: dict[str, Any] = field(default_factory=dict)


def obtain_dense_model(
    model_name: str,
    train_set: ImageDataset,
    *,
    checkpoint: str | Path | None = None,
    cache_dir: str | Path = ".",
    epochs: int = 30,
    batch_size: int = 128,
    seed: int = 0,
    device: str | torch.device = "cpu",
    channels_last: bool = True,
    callback: StepCallback | None = None,
) -> DenseModel:
    """Return the dense model that a pruning study starts from.

    With ``checkpoint``, the model is loaded from it. Otherwise a checkpoint cached in
    ``cache_dir`` under :func:`dense_checkpoint_name` is reused. When there is none, the model
    is trained for ``epochs`` on all of ``train_set`` and then cached, so a rerun with the same
    model, dataset, epochs and seed does not train again.

    Args:
        model_name: Name that :func:`build_model` accepts.
        train_set: Training images (the whole training split, for a good dense model).
        checkpoint: Optional checkpoint to load instead of training.
        cache_dir: Folder of the cached checkpoint, usually the study's folder.
        epochs: Dense training epochs.
        batch_size: Images per training step.
        seed: Seed of initialisation, batch order and augmentation.
        device: Training device.
        channels_last: Train in ``channels_last`` memory format.
        callback: Called after every training step with (steps done, total steps, loss).

    Returns:
        The :class:`DenseModel`.
    """
    num_classes, in_channels = train_set.num_classes, train_set.in_channels
    if checkpoint is not None:
        model, metadata = load_dense_checkpoint(checkpoint, model_name, num_classes, in_channels)
        _logger.info("loaded the dense model from %s", checkpoint)
        return DenseModel(model, "checkpoint", Path(checkpoint), metadata)

    cache = Path(cache_dir) / dense_checkpoint_name(model_name, train_set.name, epochs, seed)
    if cache.is_file():
        model, metadata = load_dense_checkpoint(cache, model_name, num_classes, in_channels)
        _logger.info("reusing the cached dense model %s", cache)
        return DenseModel(model, "cache", cache, metadata)

    torch.manual_seed(seed)
    model = build_model(model_name, num_classes, in_channels)
    start = time.perf_counter()
    loss = train_dense(
        model, train_set, epochs, batch_size=batch_size, seed=seed, device=device,
        channels_last=channels_last, callback=callback,
    )
    model = model.cpu().to(memory_format=torch.contiguous_format)
    metadata = {
        "epochs": epochs,
        "seed": seed,
        "train_images": len(train_set),
        "final_train_loss": loss,
        "train_seconds": round(time.perf_counter() - start, 1),
    }
    save_dense_checkpoint(cache, model, model_name, num_classes, in_channels, metadata)
    return DenseModel(model, "trained", cache, metadata)
