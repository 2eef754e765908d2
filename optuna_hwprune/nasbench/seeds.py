"""Seeds: Pareto-optimal benchmark cells that warm-start an Optuna study."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optuna_hwprune.nasbench.constraints import Constraint
from optuna_hwprune.nasbench.pareto import DEFAULT_ACCURACY, select_diverse
from optuna_hwprune.nasbench.space import index_to_ops
from optuna_hwprune.nasbench.table import BenchTable, load_table, normalize_dataset

if TYPE_CHECKING:
    import optuna


@dataclass(frozen=True)
class Seed:
    """A benchmark cell chosen to start a study.

    Attributes:
        index: NAS-Bench-201 index.
        arch: Canonical arch string.
        reference: Reference dataset whose figures chose the cell.
        metrics: Every benchmark metric of the cell on ``reference`` (None where unmeasured).
    """

    index: int
    arch: str
    reference: str
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the seed as a JSON-ready dict."""
        return {"index": self.index, "arch": self.arch, "reference": self.reference, **self.metrics}


def find_seeds(
    reference: str,
    metric: str,
    k: int,
    constraints: Sequence[Constraint] = (),
    table: BenchTable | None = None,
    accuracy: str = DEFAULT_ACCURACY,
) -> list[Seed]:
    """Pick ``k`` diverse cells from the Pareto front of accuracy against ``metric``.

    Args:
        reference: Reference dataset (``cifar10``, ``cifar100`` or ``ImageNet16-120``).
        metric: Hardware or cost metric the front trades against accuracy.
        k: Number of seeds; fewer come back when fewer feasible cells exist.
        constraints: Bounds every seed meets.
        table: Benchmark table; the bundled one by default.
        accuracy: Accuracy metric of the front.

    Raises:
        UnsatisfiableConstraintsError: If no cell meets ``constraints``.
    """
    table = table if table is not None else load_table()
    reference = normalize_dataset(reference)
    indices = select_diverse(table, reference, metric, k, constraints, accuracy)
    seeds = []
    for index in indices:
        record = table.query(index, reference)
        metrics = {key: value for key, value in record.items() if key not in ("index", "arch", "dataset")}
        seeds.append(Seed(index=index, arch=record["arch"], reference=reference, metrics=metrics))
    return seeds


def enqueue_seeds(
    study: optuna.Study,
    seeds: Sequence[Seed],
    max_epochs: int = 3,
    hyperparameters: dict[str, Any] | None = None,
) -> None:
    """Enqueue every seed as a trial with its exact edge ops and default hyper-parameters.

    Each enqueued trial carries user attributes ``source="seed"``, ``seed_index``,
    ``seed_arch``, ``seed_reference`` and ``seed_metrics``, and
    :class:`~optuna_hwprune.nasbench.objective.SeedSearchObjective` raises if a seed trial ever
    suggests another cell. A seed whose parameters an earlier trial of the study already ran is
    skipped, so reopening a study does not repeat seeds.

    Args:
        study: The study, with a search space as in :mod:`optuna_hwprune.nasbench.objective`.
        seeds: Cells to enqueue, in order.
        max_epochs: Value of the ``epochs`` parameter for seed trials.
        hyperparameters: Overrides of the default hyper-parameters.
    """
    from optuna_hwprune.nasbench.objective import seed_params

    for seed in seeds:
        params = seed_params(index_to_ops(seed.index), max_epochs)
        params.update(hyperparameters or {})
        study.enqueue_trial(
            params,
            user_attrs={
                "source": "seed",
                "seed_index": seed.index,
                "seed_arch": seed.arch,
                "seed_reference": seed.reference,
                "seed_metrics": seed.metrics,
            },
            skip_if_exists=True,
        )
