"""The pruning objective: per-layer sparsities in, (validation accuracy, estimated speedup) out."""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Sequence

import optuna
import torch
from torch import nn

from optuna_hwprune.datasets import ImageDataset
from optuna_hwprune.hardware import FPGAEstimator, extract_workloads
from optuna_hwprune.pruning._engine import (
    NonFiniteLossError,
    evaluate,
    finetune,
    recalibrate_batchnorm,
)
from optuna_hwprune.pruning._layers import prunable_layers, select_layers
from optuna_hwprune.pruning._masks import (
    apply_masks,
    count_nonzero_parameters,
    layer_sparsity,
    magnitude_masks,
)

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "sparsity/"


def sparsity_param(layer: str) -> str:
    """Return the name of the trial parameter that stores the sparsity of ``layer``."""
    return PARAM_PREFIX + layer


class PruningObjective:
    """Optuna objective that prunes a trained model layer by layer.

    Each call suggests one sparsity per selected layer (parameter ``"sparsity/<layer>"``),
    and masks a fresh copy of the dense model by weight magnitude. It fine-tunes the copy for a
    fixed number of steps with the masks held, re-estimates its batch-norm statistics, and
    returns two values to maximise:

    1. top-1 accuracy on ``val_set`` (never the test split), and
    2. the speedup that ``estimator`` predicts against the dense model. It is an estimate from
       an analytical FPGA model, not a measurement.

    Every trial starts from the same dense weights, so nothing carries over between trials, and
    every trial fine-tunes on the same batch sequence, so trials differ only in their
    sparsities. A trial whose loss, accuracy or speedup is not finite returns NaN, which Optuna
    records as a failed trial while the study goes on. The reason is stored in the trial's
    ``fail_reason`` user attribute.

    User attributes of every completed trial: ``requested_sparsity`` and ``measured_sparsity``
    (per layer, measured as the fraction of exactly-zero weights after fine-tuning),
    ``nonzero_params``, ``macs`` (of the pruned model, from the estimator), ``latency_ms``,
    ``energy_mj`` (estimated), ``val_loss``, ``finetune_loss`` and, when ``test_set`` is given,
    ``test_accuracy``.

    Args:
        model: The trained dense model. It is copied, and the copy is never modified.
        train_set: Images to fine-tune on.
        val_set: Images that the accuracy objective is measured on.
        test_set: Optional images for the ``test_accuracy`` attribute.
        estimator: Hardware estimator; an :class:`~optuna_hwprune.hardware.FPGAEstimator` with
            its default profile when omitted.
        layers: ``fnmatch`` patterns of the layers to prune (all ``Conv2d`` and ``Linear``
            layers when omitted). The other layers stay dense.
        sparsity_range: ``(low, high)`` bounds of every per-layer sparsity, with
            ``0 <= low <= high < 1``.
        structured: Prune whole filters (output channels) instead of single weights.
        finetune_steps: Fine-tuning steps per trial (0 evaluates the pruned model as is).
        finetune_lr: Initial fine-tuning learning rate, decayed along a cosine to 0.
        bn_batches: Training batches that re-estimate the batch-norm running statistics of
            the fine-tuned model before it is evaluated (see :func:`recalibrate_batchnorm`);
            0 keeps the statistics that fine-tuning left.
        batch_size: Images per fine-tuning step.
        seed: Seed of the fine-tuning batch order and augmentation, shared by all trials.
        device: Device to fine-tune and evaluate on.
        channels_last: Run convolutions in ``channels_last`` memory format.

    Raises:
        ValueError: If the range, a layer pattern or a budget is invalid.
    """

    metric_names: tuple[str, str] = ("accuracy", "speedup")
    directions: tuple[str, str] = ("maximize", "maximize")

    def __init__(
        self,
        model: nn.Module,
        train_set: ImageDataset,
        val_set: ImageDataset,
        test_set: ImageDataset | None = None,
        *,
        estimator: FPGAEstimator | None = None,
        layers: Sequence[str] | None = None,
        sparsity_range: tuple[float, float] = (0.0, 0.95),
        structured: bool = False,
        finetune_steps: int = 20,
        finetune_lr: float = 0.03,
        bn_batches: int = 10,
        batch_size: int = 128,
        seed: int = 0,
        device: str | torch.device = "cpu",
        channels_last: bool = True,
    ) -> None:
        low, high = (float(bound) for bound in sparsity_range)
        if not 0.0 <= low <= high < 1.0:
            raise ValueError(
                f"sparsity_range must satisfy 0 <= low <= high < 1 (1.0 would remove a layer), "
                f"got ({low}, {high})."
            )
        if finetune_steps < 0 or batch_size < 1 or finetune_lr <= 0:
            raise ValueError(
                "finetune_steps must be >= 0, batch_size >= 1 and finetune_lr > 0, got "
                f"{finetune_steps}, {batch_size} and {finetune_lr}."
            )
        if bn_batches < 0:
            raise ValueError(f"bn_batches must be >= 0, got {bn_batches}.")
        if any(hasattr(module, "weight_mask") for module in model.modules()):
            raise ValueError("model already has masks installed; pass the dense model (see remove_masks).")

        self.dense_model = copy.deepcopy(model).cpu().eval()
        self.train_set = train_set
        self.val_set = val_set
        self.test_set = test_set
        self.estimator = estimator if estimator is not None else FPGAEstimator()
        self.layer_names = select_layers(list(prunable_layers(self.dense_model)), layers)
        self.sparsity_range = (low, high)
        self.structured = structured
        self.finetune_steps = finetune_steps
        self.finetune_lr = finetune_lr
        self.bn_batches = bn_batches
        self.batch_size = batch_size
        self.seed = seed
        self.device = torch.device(device)
        self.channels_last = channels_last

        # Workloads describe the dense model; the estimator applies each trial's sparsities.
        height, width = train_set.image_size
        sample_input = torch.zeros(1, train_set.in_channels, height, width)
        self.workloads = extract_workloads(self.dense_model, sample_input)
        self.dense_estimate = self.estimator.estimate(self.workloads)

    def __call__(self, trial: optuna.Trial) -> tuple[float, float]:
        """Prune, fine-tune and evaluate one configuration.

        Returns:
            ``(validation accuracy, estimated speedup)``, or ``(nan, nan)`` for a failed trial.
        """
        low, high = self.sparsity_range
        requested = {
            name: trial.suggest_float(sparsity_param(name), low, high) for name in self.layer_names
        }
        trial.set_user_attr("requested_sparsity", requested)

        model = copy.deepcopy(self.dense_model)
        masks = magnitude_masks(model, requested, structured=self.structured)
        apply_masks(model, masks)
        # The fraction that the masks remove: of weights, or of filters when structured.
        achieved = {name: 1.0 - float(mask.mean()) for name, mask in masks.items()}

        estimate = self.estimator.estimate(self.workloads, achieved, structured=self.structured)
        speedup = float(self.estimator.speedup(self.workloads, achieved, structured=self.structured))
        if not math.isfinite(speedup):
            return self._fail(trial, f"estimated speedup is {speedup}")

        try:
            finetune_loss = finetune(
                model, self.train_set, self.finetune_steps, lr=self.finetune_lr,
                batch_size=self.batch_size, seed=self.seed, device=self.device,
                channels_last=self.channels_last,
            )
        except NonFiniteLossError as error:
            return self._fail(trial, f"fine-tuning failed: {error}")
        recalibrate_batchnorm(
            model, self.train_set, self.bn_batches, batch_size=self.batch_size, seed=self.seed,
            device=self.device, channels_last=self.channels_last,
        )

        validation = evaluate(model, self.val_set, device=self.device, channels_last=self.channels_last)
        if not math.isfinite(validation.loss):
            return self._fail(trial, f"validation loss is {validation.loss}")

        model.cpu()
        measured = layer_sparsity(model)
        trial.set_user_attr("measured_sparsity", {name: measured[name] for name in requested})
        trial.set_user_attr("nonzero_params", count_nonzero_parameters(model))
        trial.set_user_attr("macs", int(estimate.macs))
        trial.set_user_attr("latency_ms", float(estimate.latency_ms))
        trial.set_user_attr("energy_mj", float(estimate.energy_mj))
        trial.set_user_attr("val_loss", validation.loss)
        trial.set_user_attr("finetune_loss", finetune_loss)
        if self.test_set is not None:
            test = evaluate(model, self.test_set, device=self.device, channels_last=self.channels_last)
            trial.set_user_attr("test_accuracy", test.accuracy)

        return validation.accuracy, speedup

    @staticmethod
    def _fail(trial: optuna.Trial, reason: str) -> tuple[float, float]:
        _logger.warning("trial %d failed: %s", trial.number, reason)
        trial.set_user_attr("fail_reason", reason)
        return math.nan, math.nan
