"""The HPO objective: train a NAS-Bench-201 cell network on the target dataset.

Search space (parameter names are stable, so seeds and sampled trials share it):

- ``op_1_0``, ``op_2_0``, ``op_2_1``, ``op_3_0``, ``op_3_1``, ``op_3_2``: the operation on each
  cell edge (``op_<target>_<source>``), one of :data:`~optuna_hwprune.nasbench.space.OPS`;
- ``optimizer`` (``adamw`` or ``sgd`` with Nesterov momentum), ``lr`` (peak learning rate, log,
  1e-4..0.1), ``weight_decay`` (log, 1e-5..0.1), ``batch_size`` (16, 32, 64),
  ``label_smoothing`` (0..0.2), ``epochs`` (1..max_epochs), ``augment`` (random crop with
  2-pixel padding and horizontal flip, on or off).

Every trial warms the learning rate up over the first 10% of its steps and decays it along a
cosine to zero (see :mod:`optuna_hwprune.nasbench._training`). The objective value is the
validation accuracy (fraction in [0, 1]) of the best epoch, whose weights also give the test
accuracy. Test accuracy, parameter
count, MACs and every benchmark metric of the cell on the reference dataset become user
attributes. Constraint values go to :meth:`optuna.trial.Trial.set_constraint`. A sampled cell
that violates a constraint is not trained: the trial is pruned with ``feasible=False``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optuna_hwprune.nasbench.constraints import Constraint
from optuna_hwprune.nasbench.space import EDGES, OPS, arch_to_index, edge_name, ops_to_arch
from optuna_hwprune.nasbench.table import BenchTable, load_table, normalize_dataset

if TYPE_CHECKING:
    import optuna

    from optuna_hwprune.datasets import ImageDataset

_logger = logging.getLogger(__name__)

OP_PARAMS: tuple[str, ...] = tuple(f"op_{edge_name(edge)}" for edge in range(len(EDGES)))
# ``adamw`` (decoupled weight decay) or ``sgd`` (Nesterov momentum 0.9).
OPTIMIZERS = ("adamw", "sgd")
LR_RANGE = (1e-4, 0.1)
WEIGHT_DECAY_RANGE = (1e-5, 0.1)
# Small batches give a dataset of a few hundred images enough steps per epoch. With 3 epochs on
# BreastMNIST's 546 images, batch size 64 leaves 24 steps and often ends at the majority share.
BATCH_SIZES = (16, 32, 64)
LABEL_SMOOTHING_RANGE = (0.0, 0.2)

# Hyper-parameters of seed trials: the best of the recipes compared on BreastMNIST with 3
# epochs (three cells, two seeds each; docs/seed-search.md lists them).
DEFAULT_HYPERPARAMETERS: dict[str, Any] = {
    "optimizer": "adamw",
    "lr": 3e-3,
    "weight_decay": 1e-2,
    "batch_size": 32,
    "label_smoothing": 0.1,
    "augment": False,
}

METRIC_NAME = "val_accuracy"
# Names of the training hyper-parameters, in the order that :func:`suggest_hyperparameters`
# suggests them.
HYPERPARAMETERS = ("optimizer", "lr", "weight_decay", "batch_size", "label_smoothing", "epochs", "augment")


def seed_params(arch_ops: Sequence[str], max_epochs: int) -> dict[str, Any]:
    """Return the full parameter set of a seed trial: its edge ops and default hyper-parameters."""
    params: dict[str, Any] = dict(zip(OP_PARAMS, arch_ops))
    params.update(DEFAULT_HYPERPARAMETERS)
    params["epochs"] = max_epochs
    return params


def suggest_arch(trial: optuna.trial.Trial) -> str:
    """Suggest the six edge operations and return the cell's canonical arch string."""
    return ops_to_arch([trial.suggest_categorical(name, OPS) for name in OP_PARAMS])


def suggest_hyperparameters(trial: optuna.trial.Trial, max_epochs: int) -> dict[str, Any]:
    """Suggest the training hyper-parameters (see the module docstring for their ranges)."""
    return {
        "optimizer": trial.suggest_categorical("optimizer", OPTIMIZERS),
        "lr": trial.suggest_float("lr", *LR_RANGE, log=True),
        "weight_decay": trial.suggest_float("weight_decay", *WEIGHT_DECAY_RANGE, log=True),
        "batch_size": trial.suggest_categorical("batch_size", BATCH_SIZES),
        "label_smoothing": trial.suggest_float("label_smoothing", *LABEL_SMOOTHING_RANGE),
        "epochs": trial.suggest_int("epochs", 1, max_epochs),
        "augment": trial.suggest_categorical("augment", (True, False)),
    }


def record_constraints(
    trial: optuna.trial.Trial, record: dict[str, Any], constraints: Sequence[Constraint]
) -> list[float]:
    """Store each constraint's value on ``trial`` with :meth:`optuna.trial.Trial.set_constraint`.

    Samplers that handle constraints (TPE, NSGA-II, LayerwiseNSGASampler) read them from the
    trial, so infeasible trials rank below feasible ones. A value <= 0 means the bound is met.

    Returns:
        The values, in the order of ``constraints``.
    """
    values = []
    for constraint in constraints:
        measured = record[constraint.metric]
        violation = float(constraint.violation(math.nan if measured is None else measured))
        # A missing measurement violates by inf, but storages accept only finite numbers.
        value = min(violation, 1e300)
        trial.set_constraint(str(constraint), value)
        values.append(value)
    return values


class SeedSearchObjective:
    """Objective that trains the suggested cell network and returns its validation accuracy.

    Args:
        train: Training split.
        val: Validation split (its accuracy is the objective).
        test: Test split (reported as a user attribute).
        reference: HW-NAS-Bench reference dataset whose metrics the constraints bound.
        constraints: Constraints every trained cell meets.
        max_epochs: Upper bound of the ``epochs`` parameter (seeds use it).
        device: Torch device for training.
        seed: Base seed; trial ``n`` trains with seed ``seed + n``.
        table: Benchmark table; the bundled one by default.
        num_threads: Intra-op CPU threads while a trial trains; None keeps torch's setting.
            The default of 1 suits the small cell networks: on a 2-core VM that other jobs
            loaded, one BreastMNIST epoch of cell 4384 took 0.7 s with 1 thread and 19-24 s
            with 2, which wait on each other.
    """

    def __init__(
        self,
        train: ImageDataset,
        val: ImageDataset,
        test: ImageDataset,
        reference: str,
        constraints: Sequence[Constraint] = (),
        max_epochs: int = 3,
        device: str = "cpu",
        seed: int = 0,
        table: BenchTable | None = None,
        num_threads: int | None = 1,
    ) -> None:
        from optuna_hwprune._device import resolve_device

        if max_epochs < 1:
            raise ValueError(f"max_epochs must be a positive integer, got {max_epochs}")
        self.train_set, self.val_set, self.test_set = train, val, test
        self.reference = normalize_dataset(reference)
        self.constraints = list(constraints)
        self.max_epochs = max_epochs
        self.device = resolve_device(device)
        self.seed = seed
        self.table = table if table is not None else load_table()
        if num_threads is not None and num_threads < 1:
            raise ValueError(f"num_threads must be a positive integer or None, got {num_threads}")
        self.num_threads = num_threads

    def __call__(self, trial: optuna.trial.Trial) -> float:
        import optuna
        import torch

        from optuna_hwprune.nasbench._training import evaluate, torch_threads, train
        from optuna_hwprune.nasbench.network import CellNetwork, count_macs, count_parameters

        arch = suggest_arch(trial)
        index = arch_to_index(arch)
        self._check_seed(trial, index, arch)
        record = self.table.query(index, self.reference)
        trial.set_user_attr("arch", arch)
        trial.set_user_attr("index", index)
        trial.set_user_attr("reference", self.reference)
        trial.set_user_attr("source", trial.user_attrs.get("source", "sampler"))
        for metric in self.table.metrics(self.reference):
            trial.set_user_attr(f"bench_{metric}", record[metric])

        values = record_constraints(trial, record, self.constraints)
        feasible = all(value <= 0 for value in values)
        trial.set_user_attr("feasible", feasible)
        if not feasible:
            broken = [str(c) for c, value in zip(self.constraints, values) if value > 0]
            _logger.info("trial %d: cell %d violates %s; not trained", trial.number, index, ", ".join(broken))
            raise optuna.TrialPruned(f"cell {index} violates {', '.join(broken)}")

        hyperparameters = suggest_hyperparameters(trial, self.max_epochs)

        torch.manual_seed(self.seed + trial.number)
        model = CellNetwork(arch, self.train_set.num_classes, in_channels=self.train_set.in_channels)
        trial.set_user_attr("params", count_parameters(model))
        trial.set_user_attr("macs", count_macs(model, (self.train_set.in_channels, *self.train_set.image_size)))

        start = time.perf_counter()
        with torch_threads(self.num_threads):
            result = train(
                model,
                self.train_set,
                **hyperparameters,
                device=self.device,
                seed=self.seed + trial.number,
                val=self.val_set,
            )
            # Test accuracy of the best-validation weights: reported, never used for selection.
            test_accuracy = evaluate(model, self.test_set, self.device)
        val_accuracy = result.best_val_accuracy
        elapsed = time.perf_counter() - start

        trial.set_user_attr("train_loss", result.train_loss)
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("val_accuracy_per_epoch", result.val_accuracies)
        trial.set_user_attr("test_accuracy", test_accuracy)
        trial.set_user_attr("train_seconds", elapsed)
        _logger.info(
            "trial %d: cell %d val %.4f test %.4f (%d epochs, %.1f s)",
            trial.number,
            index,
            val_accuracy,
            test_accuracy,
            hyperparameters["epochs"],
            elapsed,
        )
        return val_accuracy

    @staticmethod
    def _check_seed(trial: optuna.trial.Trial, index: int, arch: str) -> None:
        # A seed must run exactly the enqueued cell; a mismatch means its parameters were not
        # applied (for example an op name outside the distribution's choices).
        if trial.user_attrs.get("source") != "seed":
            return
        expected = trial.user_attrs.get("seed_index")
        if expected != index:
            raise RuntimeError(
                f"trial {trial.number} was enqueued as seed cell {expected} but suggests cell "
                f"{index} ({arch}); the enqueued parameters were not applied"
            )
