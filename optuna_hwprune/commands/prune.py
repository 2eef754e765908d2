"""``hwprune prune``: search per-layer sparsities that trade accuracy against FPGA speedup."""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from optuna_hwprune.commands._common import (
    CONFIG_ATTR,
    check_storage,
    check_study_options,
    non_negative_int,
    positive_int,
)


SAMPLERS = ("nsga", "nsgaii", "tpe", "random")
# Smallest population that each genetic sampler accepts. The command checks it before it loads
# data, because the samplers themselves reject it only when the study is created.
MIN_POPULATION = {"nsga": 4, "nsgaii": 2}
MODELS = ("resnet50", "resnet20", "resnet56")



def _sparsity_range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"invalid sparsity range {text!r}; write LOW,HIGH, for example 0.0,0.9"
        ) from error
    if not 0.0 <= low <= high < 1.0:
        raise argparse.ArgumentTypeError(
            f"invalid sparsity range {text!r}; it needs 0 <= LOW <= HIGH < 1 (1.0 removes a layer)"
        )
    return low, high


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``prune`` to the ``hwprune`` parser."""
    parser = subparsers.add_parser(
        "prune",
        help="search per-layer sparsities of a trained CNN for accuracy and estimated FPGA speedup",
        description=(
            "Train (or load) a dense model, then run a two-objective Optuna study: each trial "
            "picks one sparsity per layer, masks the dense weights by magnitude, fine-tunes, and "
            "reports validation accuracy and the FPGA speedup that the analytical estimator "
            "predicts against the dense model."
        ),
    )
    model = parser.add_argument_group("model and data")
    model.add_argument("--model", choices=MODELS, default="resnet50", help="network (default: resnet50)")
    model.add_argument("--dataset", default="cifar10", help="cifar10 or a 2D MedMNIST flag (default: cifar10)")
    model.add_argument(
        "--data-root",
        type=Path,
        help="folder with torchvision's CIFAR-10, cifar10-jpeg.zip, or train/ and test/ JPEG "
        "folders (default: ./data/<dataset>, downloaded when missing)",
    )
    model.add_argument("--checkpoint", type=Path, help="trained dense model to start from (skips dense training)")
    model.add_argument(
        "--dense-epochs",
        type=positive_int,
        default=30,
        help="epochs of dense training on the whole train split when no checkpoint is given; the "
        "result is cached next to the study (default: 30)",
    )
    model.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="training device (default: auto)")

    search = parser.add_argument_group("search")
    search.add_argument("--trials", type=positive_int, default=100, help="trials the study should hold in total (default: 100)")
    search.add_argument("--population", type=positive_int, help="population size of the NSGA samplers (default: the sampler's)")
    search.add_argument("--sampler", choices=SAMPLERS, default="nsga", help="nsga: LayerwiseNSGASampler (default); nsgaii, tpe, random: Optuna's")
    search.add_argument(
        "--sparsity-range",
        type=_sparsity_range,
        default=(0.0, 0.9),
        metavar="LOW,HIGH",
        help="bounds of every per-layer sparsity, HIGH < 1 (default: 0.0,0.9)",
    )
    search.add_argument("--structured", action="store_true", help="prune whole filters (output channels) instead of single weights")
    search.add_argument(
        "--layers",
        metavar="PATTERNS",
        help="comma-separated fnmatch patterns of the layers to prune, e.g. 'layer*,fc' (default: every Conv2d and Linear)",
    )
    search.add_argument("--finetune-steps", type=non_negative_int, default=100, help="fine-tuning steps per trial (default: 100)")
    search.add_argument("--finetune-lr", type=float, default=0.03, help="initial fine-tuning learning rate, cosine-decayed (default: 0.03)")
    search.add_argument("--batch-size", type=positive_int, default=128, help="images per training step (default: 128)")
    search.add_argument("--train-subset", type=positive_int, help="fine-tune on a stratified subset of this many training images")
    search.add_argument(
        "--val-subset",
        type=positive_int,
        help="evaluate on stratified subsets of this many validation and test images",
    )

    output = parser.add_argument_group("study and output")
    output.add_argument("--storage", default="sqlite:///hwprune.db", help="Optuna storage URL (default: sqlite:///hwprune.db)")
    output.add_argument("--study", default="prune", help="study name; an existing study is continued (default: prune)")
    output.add_argument("--seed", type=int, default=0, help="seed of dense training, subsets, fine-tuning and the sampler (default: 0)")
    output.add_argument("--json", type=Path, help="write the summary to this JSON file")
    output.add_argument(
        "--plots",
        type=Path,
        help="write PNG plots into this folder and attach them to the study as optuna-dashboard artifacts",
    )
    output.add_argument(
        "--artifact-dir",
        type=Path,
        help="folder of the optuna-dashboard artifact store that receives the plots "
        "(default: artifacts/ next to the study)",
    )
    parser.set_defaults(func=run)


def _parse_layers(text: str | None) -> list[str] | None:
    if text is None:
        return None
    patterns = [pattern.strip() for pattern in text.split(",") if pattern.strip()]
    if not patterns:
        raise ValueError(f"--layers {text!r} contains no pattern; write for example 'layer*,fc'")
    return patterns


def _study_folder(storage: str) -> Path:
    # The folder of an SQLite file or journal file; other storages use the working folder.
    if storage.startswith("sqlite:///"):
        return Path(storage[len("sqlite:///") :]).expanduser().resolve().parent
    if "://" not in storage:
        return Path(storage).expanduser().resolve().parent
    return Path.cwd()


def _check_population(sampler: str, population: int | None) -> None:
    # Checked before any training, so a bad value costs nothing.
    minimum = MIN_POPULATION.get(sampler)
    if population is not None and minimum is not None and population < minimum:
        raise ValueError(
            f"--population {population} is below the minimum of {minimum} of --sampler {sampler}; "
            f"pass --population {minimum} or more, or omit it for the sampler's default"
        )


def _make_sampler(name: str, population: int | None, seed: int):
    import optuna

    if name == "nsga":
        from optuna_hwprune.samplers import LayerwiseNSGASampler

        return LayerwiseNSGASampler(population_size=population, seed=seed)
    if name == "nsgaii":
        if population is None:
            return optuna.samplers.NSGAIISampler(seed=seed)
        return optuna.samplers.NSGAIISampler(population_size=population, seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    return optuna.samplers.RandomSampler(seed=seed)


def run(args: argparse.Namespace) -> int:
    """Run the pruning study, print its Pareto front, and write the summary and plots."""
    import optuna
    import torch
    from optuna.trial import TrialState
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.table import Table

    from optuna_hwprune.datasets import load_dataset
    from optuna_hwprune.pruning import PruningObjective, evaluate, resolve_device
    from optuna_hwprune.pruning._dense import obtain_dense_model
    from optuna_hwprune.pruning._summary import study_records
    from optuna_hwprune.report.artifacts import upload_plots
    from optuna_hwprune.report.pruning_plots import write_pruning_plots

    if args.finetune_lr <= 0:
        raise ValueError(f"--finetune-lr must be > 0, got {args.finetune_lr}")
    _check_population(args.sampler, args.population)
    if args.artifact_dir is not None and args.plots is None:
        raise ValueError("--artifact-dir receives the plots, so it needs --plots DIR as well")
    layers = _parse_layers(args.layers)
    device = resolve_device(args.device)
    check_storage(args.storage)
    config = {
        "model": args.model,
        "dataset": args.dataset,
        "structured": args.structured,
        "sparsity_range": list(args.sparsity_range),
        "layers": args.layers,
    }
    check_study_options(args.storage, args.study, 2, config)
    # channels_last made the CIFAR ResNets about twice as fast on a CPU but slowed ResNet50
    # down there (benchmarks/pruning_cost.py); on CUDA it is the usual choice.
    channels_last = device.type == "cuda" or args.model != "resnet50"
    start = time.perf_counter()
    console = Console(stderr=True)

    # Dense training uses the whole train split; --train-subset only limits fine-tuning.
    train_full = load_dataset(args.dataset, args.data_root, "train")
    train_set = train_full.subset(args.train_subset, seed=args.seed)
    val_set = load_dataset(args.dataset, args.data_root, "val").subset(args.val_subset, seed=args.seed)
    test_set = load_dataset(args.dataset, args.data_root, "test").subset(args.val_subset, seed=args.seed)
    console.print(
        f"[bold]{args.dataset}[/]: {len(train_full)} training images for the dense model, "
        f"{len(train_set)} for fine-tuning, {len(val_set)} validation, {len(test_set)} test"
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"dense training of {args.model}", total=None)

        def advance_dense(done: int, total: int, loss: float) -> None:
            progress.update(task, completed=done, total=total, description=f"dense training of {args.model}, loss {loss:.3f}")

        dense = obtain_dense_model(
            args.model, train_full, checkpoint=args.checkpoint, cache_dir=_study_folder(args.storage),
            epochs=args.dense_epochs, batch_size=args.batch_size, seed=args.seed, device=device,
            channels_last=channels_last, callback=advance_dense,
        )
        progress.remove_task(task)
    console.print(f"dense model: {dense.source} ({dense.path})")

    dense_val = evaluate(dense.model, val_set, device=device, channels_last=channels_last)
    dense_test = evaluate(dense.model, test_set, device=device, channels_last=channels_last)
    dense.model.cpu().to(memory_format=torch.contiguous_format)

    objective = PruningObjective(
        dense.model, train_set, val_set, test_set, layers=layers, sparsity_range=args.sparsity_range,
        structured=args.structured, finetune_steps=args.finetune_steps, finetune_lr=args.finetune_lr,
        batch_size=args.batch_size, seed=args.seed, device=device, channels_last=channels_last,
    )
    estimate = objective.dense_estimate
    console.print(
        f"dense {args.model}: validation accuracy {100 * dense_val.accuracy:.2f}%, test accuracy "
        f"{100 * dense_test.accuracy:.2f}%, estimated FPGA latency {estimate.latency_ms:.3f} ms, "
        f"energy {estimate.energy_mj:.3f} mJ ({objective.estimator.profile.name}, an analytical estimate)"
    )

    if args.verbose == 0:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=args.storage, study_name=args.study, directions=list(objective.directions),
        sampler=_make_sampler(args.sampler, args.population, args.seed), load_if_exists=True,
    )
    with warnings.catch_warnings():
        # set_metric_names has been marked experimental since Optuna 3.2.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(objective.metric_names))
    study.set_user_attr("model", args.model)
    study.set_user_attr(CONFIG_ATTR, config)
    study.set_user_attr("dense_val_accuracy", dense_val.accuracy)
    study.set_user_attr("dense_test_accuracy", dense_test.accuracy)
    study.set_user_attr("dense_latency_ms", estimate.latency_ms)
    study.set_user_attr("dense_energy_mj", estimate.energy_mj)

    finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)))
    remaining = max(0, args.trials - finished)
    if finished:
        console.print(f"study {args.study!r} already contains {finished} finished trials; running {remaining} more")

    with Progress(*columns, console=console) as progress:
        task = progress.add_task("trials", total=remaining)

        def report_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            progress.advance(task)
            if trial.state == TrialState.COMPLETE:
                accuracy, speedup = trial.values
                progress.console.print(
                    f"trial {trial.number:3d}: accuracy {100 * accuracy:6.2f}%  speedup {speedup:5.2f}x  "
                    f"({(trial.datetime_complete - trial.datetime_start).total_seconds():.0f} s)"
                )
            else:
                reason = trial.user_attrs.get("fail_reason", "see the log")
                progress.console.print(f"trial {trial.number:3d}: {trial.state.name.lower()}: {reason}")

        study.optimize(objective, n_trials=remaining, callbacks=[report_trial])

    records = study_records(study)
    table = Table(title=f"Pareto front of {args.study!r} (dense: {100 * dense_val.accuracy:.2f}%, 1.00x)")
    for header in ("trial", "val acc %", "test acc %", "est. speedup", "latency ms", "energy mJ", "non-zero params"):
        table.add_column(header, justify="right")
    for record in records["pareto_front"]:
        table.add_row(
            str(record["number"]), f"{100 * record['accuracy']:.2f}", f"{100 * record.get('test_accuracy', float('nan')):.2f}",
            f"{record['speedup']:.2f}x", f"{record['latency_ms']:.3f}", f"{record['energy_mj']:.3f}", f"{record['nonzero_params']:,}",
        )
    console.print(table)

    plots: list[str] = []
    if args.plots is not None:
        paths = write_pruning_plots(study, dense_val.accuracy, objective.layer_names, args.plots)
        artifact_dir = args.artifact_dir if args.artifact_dir is not None else _study_folder(args.storage) / "artifacts"
        upload_plots(study, paths, artifact_dir)
        plots = [str(path) for path in paths]
        console.print(f"plots: {', '.join(plots)} (also in optuna-dashboard with --artifact-dir {artifact_dir})")

    summary = {
        "study": args.study,
        "storage": args.storage,
        "model": args.model,
        "dataset": args.dataset,
        "sampler": args.sampler,
        "structured": args.structured,
        "sparsity_range": list(args.sparsity_range),
        "layers": objective.layer_names,
        "finetune_steps": args.finetune_steps,
        "images": {"dense_train": len(train_full), "finetune": len(train_set), "val": len(val_set), "test": len(test_set)},
        "dense": {
            "source": dense.source,
            "checkpoint": str(dense.path),
            "training": dense.metadata,
            "val_accuracy": dense_val.accuracy,
            "test_accuracy": dense_test.accuracy,
            "latency_ms": estimate.latency_ms,
            "energy_mj": estimate.energy_mj,
            "macs": estimate.macs,
            "params": sum(parameter.numel() for parameter in dense.model.parameters()),
        },
        "estimator": {
            "note": "latency, energy and speedup are estimates of an analytical FPGA model, not measurements",
            "profile": objective.estimator.profile.to_dict(),
        },
        **records,
        "plots": plots,
        "elapsed_s": round(time.perf_counter() - start, 1),
    }
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
        console.print(f"summary: {args.json}")
    return 0
