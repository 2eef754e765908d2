"""Dense checkpoints: save, load, and a cache file name derived from the training setup."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from optuna_hwprune.pruning._models import build_model

_logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "optuna-hwprune-dense/1"


def dense_checkpoint_name(model: str, dataset: str, epochs: int, seed: int) -> str:
    """Return the cache file name of a dense model trained with the given setup."""
    return f"dense-{model}-{dataset}-{epochs}ep-seed{seed}.pt"


def save_dense_checkpoint(
    path: str | Path,
    model: nn.Module,
    model_name: str,
    num_classes: int,
    in_channels: int,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write a dense model and how to rebuild it to ``path``.

    Args:
        path: Target file; its folder is created when missing.
        model: The trained dense model (without masks).
        model_name: Name that :func:`build_model` accepts.
        num_classes: Number of output classes.
        in_channels: Number of input channels.
        metadata: Extra JSON-like facts to store, such as the training epochs and accuracy.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model": model_name,
        "num_classes": num_classes,
        "in_channels": in_channels,
        "state_dict": state,
        "metadata": dict(metadata or {}),
    }
    # Write then rename, so an interrupted run never leaves a truncated cache file.
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    partial.replace(path)
    _logger.info("saved the dense checkpoint to %s", path)
    return path


def load_dense_checkpoint(
    path: str | Path,
    model_name: str,
    num_classes: int,
    in_channels: int = 3,
) -> tuple[nn.Module, dict[str, Any]]:
    """Load a dense model from ``path``.

    ``path`` may hold a checkpoint written by :func:`save_dense_checkpoint` or a bare
    ``state_dict`` of the same architecture.

    Returns:
        The model and the checkpoint's metadata (empty for a bare ``state_dict``).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the checkpoint was made for another model, class count or channel
            count, or its weights do not fit the architecture.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found; train without --checkpoint to create one.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        # torch's own message suggests weights_only=False, which would run arbitrary code.
        raise ValueError(
            f"checkpoint {path} is not a torch state_dict or a checkpoint written by hwprune "
            f"({type(error).__name__}); pass a file saved with torch.save(model.state_dict(), path)"
        ) from error

    metadata: dict[str, Any] = {}
    state = payload
    if isinstance(payload, dict) and payload.get("format") == CHECKPOINT_FORMAT:
        expected = (model_name, num_classes, in_channels)
        found = (payload["model"], payload["num_classes"], payload["in_channels"])
        if found != expected:
            raise ValueError(
                f"checkpoint {path} contains model {found[0]} with {found[1]} classes and "
                f"{found[2]} input channels, but {expected[0]} with {expected[1]} classes and "
                f"{expected[2]} channels is requested."
            )
        state, metadata = payload["state_dict"], dict(payload["metadata"])

    model = build_model(model_name, num_classes, in_channels)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"checkpoint {path} does not fit model {model_name}: {error}") from error
    return model, metadata
