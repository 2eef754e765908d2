"""The HPO objective: train a NAS-Bench-201 cell network on the target dataset.

Search space (parameter names are stable, so seeds and sampled trials share it):

- ``op_1_0``, ``op_2_0``, ``op_2_1``, ``op_3_0``, ``op_3_1``, ``op_3_2``: the operation on each
  cell edge (``op_<target>_<source>``), one of :data:`~optuna_hwprune.nasbench.space.OPS`;
- ``lr`` (log, 1e-3..0.3), ``weight_decay`` (log, 1e-5..1e-2), ``batch_size`` (32, 64, 128),
  ``epochs`` (1..max_epochs), ``augment`` (random crop and flip on or off).

The objective value is the validation accuracy (fraction in [0, 1]). Test accuracy, parameter
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
LR_RANGE = (1e-3, 0.3)
WEIGHT_DECAY_RANGE = (1e-5, 1e-2)
BATCH_SIZES = (32, 64, 128)

# Hyper-parameters of seed trials. Weight decay 5e-4 with SGD is the usual CIFAR setting. The
# learning rate and batch size are smaller than CIFAR's to suit datasets of a few hundred images.
# NOTE: with at most 3 epochs on BreastMNIST, most trials (seeds included) stay at the
# majority-class accuracy; see benchmarks/results/warm_start.md. Use more epochs for real runs.
DEFAULT_HYPERPARAMETERS: dict[str, Any] = {
    "lr": 0.05,
    "weight_decay": 5e-4,
    "batch_size": 64,
    "augment": True,
}

METRIC_NAME = "val_accuracy"


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
        "lr": trial.suggest_float("lr", *LR_RANGE, log=True),
        "weight_decay": trial.suggest_float("weight_decay", *WEIGHT_DECAY_RANGE, log=True),
        "batch_size": trial.suggest_categorical("batch_size", BATCH_SIZES),
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
    ) -> None:
        from optuna_hwprune.nasbench._training import resolve_device

        if max_epochs < 1:
            raise ValueError(f"max_epochs must be a positive integer, got {max_epochs}")
        self.train_set, self.val_set, self.test_set = train, val, test
        self.reference = normalize_dataset(reference)
        self.constraints = list(constraints)
        self.max_epochs = max_epochs
        self.device = resolve_device(device)
        self.seed = seed
        self.table = table if table is not None else load_table()

    def __call__(self, trial: optuna.trial.Trial) -> float:
        import optuna
        import torch

        from optuna_hwprune.nasbench._training import evaluate, train
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
        loss = train(
            model,
            self.train_set,
            **hyperparameters,
            device=self.device,
            seed=self.seed + trial.number,
        )
        val_accuracy = evaluate(model, self.val_set, self.device)
        test_accuracy = evaluate(model, self.test_set, self.device)
        elapsed = time.perf_counter() - start

        trial.set_user_attr("train_loss", loss)
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
