"""Layer-wise magnitude pruning of CNNs as an Optuna objective.

The pieces, one concept per module: prunable-layer discovery (``_layers``), magnitude masks
that stay applied through training (``_masks``), CIFAR-sized models (``_models``), dense
checkpoints (``_checkpoint``), the train / fine-tune / evaluate engine (``_engine``) and the
two-objective :class:`PruningObjective` (``_objective``).
"""

from __future__ import annotations

from optuna_hwprune.pruning._checkpoint import (
    dense_checkpoint_name,
    load_dense_checkpoint,
    save_dense_checkpoint,
)
from optuna_hwprune.pruning._engine import (
    Evaluation,
    NonFiniteLossError,
    evaluate,
    finetune,
    recalibrate_batchnorm,
    resolve_device,
    train_dense,
)
from optuna_hwprune.pruning._layers import prunable_layers, select_layers
from optuna_hwprune.pruning._masks import (
    apply_masks,
    count_nonzero_parameters,
    layer_sparsity,
    load_masked_state_dict,
    magnitude_masks,
    masks_from_state_dict,
    remove_masks,
)
from optuna_hwprune.pruning._models import MODEL_NAMES, CifarResNet, build_model
from optuna_hwprune.pruning._objective import PruningObjective, sparsity_param

__all__ = [
    "MODEL_NAMES",
    "CifarResNet",
    "Evaluation",
    "NonFiniteLossError",
    "PruningObjective",
    "apply_masks",
    "build_model",
    "count_nonzero_parameters",
    "dense_checkpoint_name",
    "evaluate",
    "finetune",
    "layer_sparsity",
    "load_dense_checkpoint",
    "load_masked_state_dict",
    "magnitude_masks",
    "masks_from_state_dict",
    "prunable_layers",
    "recalibrate_batchnorm",
    "remove_masks",
    "resolve_device",
    "save_dense_checkpoint",
    "select_layers",
    "sparsity_param",
    "train_dense",
]
