"""Cost of a pruning study on this machine: ResNet-20 against ResNet50 on CIFAR-10.

For each model and memory format (contiguous and channels_last), the script measures the time
of one training step at the study's batch size and the evaluation throughput, as medians over
repeats. A step runs the same ``finetune`` loop as dense training and fine-tuning, with
augmentation. From those it extrapolates the cost of the demo study

    hwprune prune --model MODEL --dataset cifar10 --dense-epochs 3 --trials 24 --population 8
        --finetune-steps 20 --train-subset 5000 --val-subset 1000

(dense training on 45,000 images, then 24 trials of 20 fine-tuning steps and two 1,000-image
evaluations). ResNet50 is too slow on a CPU to run that study here, so its figures are
extrapolations from a few measured steps. With ``--demo-json`` the measured demo run's
durations are recorded next to the ResNet-20 extrapolation.

    python benchmarks/pruning_cost.py --data-root ../shared/data/cifar10 \
        --demo-json /path/to/prune.json

NOTE: the development machine's two cores were shared with other jobs while this ran, so the
timings are pessimistic and vary between runs.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from pathlib import Path

import torch

from optuna_hwprune.datasets import load_dataset
from optuna_hwprune.pruning import build_model, evaluate, finetune

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "benchmarks" / "results"

# The demo study of the pruning guide.
DENSE_EPOCHS = 3
DENSE_IMAGES = 45_000
TRIALS = 24
FINETUNE_STEPS = 20
EVAL_IMAGES_PER_TRIAL = 2 * 1000  # validation and test subsets
BATCH_SIZE = 128


def time_training_step(model_name: str, train, channels_last: bool, repeats: int) -> float:
    """Return the median seconds of one training step over ``repeats`` single steps."""
    torch.manual_seed(0)
    model = build_model(model_name, num_classes=10)
    finetune(model, train, steps=1, batch_size=BATCH_SIZE, channels_last=channels_last)  # warm-up
    times = []
    for repeat in range(repeats):
        start = time.perf_counter()
        finetune(model, train, steps=1, batch_size=BATCH_SIZE, seed=repeat, channels_last=channels_last)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_evaluation(model_name: str, val, channels_last: bool, repeats: int) -> float:
    """Return the median evaluation throughput in images per second."""
    model = build_model(model_name, num_classes=10)
    evaluate(model, val.subset(64, seed=0), channels_last=channels_last)  # warm-up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        evaluate(model, val, channels_last=channels_last)
        rates.append(len(val) / (time.perf_counter() - start))
    return statistics.median(rates)


def extrapolate(step_s: float, eval_images_per_s: float) -> dict[str, float]:
    """Extrapolate the demo study's cost in seconds from one step time and one eval rate."""
    dense_s = DENSE_EPOCHS * math.ceil(DENSE_IMAGES / BATCH_SIZE) * step_s
    trial_s = FINETUNE_STEPS * step_s + EVAL_IMAGES_PER_TRIAL / eval_images_per_s
    return {
        "dense_training_s": round(dense_s, 1),
        "trial_s": round(trial_s, 1),
        "study_s": round(dense_s + TRIALS * trial_s, 1),
    }


def measured_demo(path: Path) -> dict[str, float]:
    """Read the durations of a finished demo run from its JSON summary."""
    summary = json.loads(path.read_text())
    durations = [trial["duration_s"] for trial in summary["trials"]]
    return {
        "dense_training_s": summary["dense"]["training"].get("train_seconds", float("nan")),
        "trial_s": round(statistics.median(durations), 1),
        "study_s": summary["elapsed_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default=str(REPO_ROOT.parent / "shared" / "data" / "cifar10"))
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--demo-json", type=Path, help="JSON summary of a finished ResNet-20 demo run")
    parser.add_argument(
        "--add-demo-only",
        action="store_true",
        help="add --demo-json to the existing results without measuring again",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    if args.add_demo_only:
        if args.demo_json is None:
            parser.error("--add-demo-only needs --demo-json")
        record = json.loads((RESULTS / "pruning_cost.json").read_text())
        record["measured_resnet20_demo"] = measured_demo(args.demo_json)
        record["command"] += f"; then --add-demo-only --demo-json {args.demo_json.name}"
        write_results(record)
        return

    train = load_dataset("cifar10", args.data_root, "train").subset(1024, seed=0)
    val = load_dataset("cifar10", args.data_root, "val").subset(256, seed=0)

    rows = []
    for model_name in ("resnet20", "resnet50"):
        for channels_last in (False, True):
            step_s = time_training_step(model_name, train, channels_last, args.repeats)
            rate = time_evaluation(model_name, val, channels_last, args.repeats)
            row = {
                "model": model_name,
                "memory_format": "channels_last" if channels_last else "contiguous",
                "train_step_s": round(step_s, 3),
                "train_images_per_s": round(BATCH_SIZE / step_s, 1),
                "eval_images_per_s": round(rate, 1),
                "extrapolated": extrapolate(step_s, rate),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)

    record = {
        "machine": f"2-core x86_64 CPU VM ({platform.processor() or platform.machine()}), no GPU, "
        f"torch {torch.__version__}, {args.threads} threads; cores shared with other jobs",
        "command": f"python benchmarks/pruning_cost.py --data-root ../shared/data/cifar10 --repeats {args.repeats}"
        + (f" --demo-json {args.demo_json.name}" if args.demo_json else ""),
        "demo_study": {
            "dense_epochs": DENSE_EPOCHS, "dense_images": DENSE_IMAGES, "trials": TRIALS,
            "finetune_steps": FINETUNE_STEPS, "batch_size": BATCH_SIZE,
            "eval_images_per_trial": EVAL_IMAGES_PER_TRIAL,
        },
        "rows": rows,
        "measured_resnet20_demo": measured_demo(args.demo_json) if args.demo_json else None,
    }
    write_results(record)


def write_results(record: dict) -> None:
    """Write the record as JSON and Markdown under ``benchmarks/results`` and print the table."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pruning_cost.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / "pruning_cost.md").write_text(markdown(record))
    print(markdown(record))


def step_ratio(rows: list[dict]) -> float:
    """Return ResNet50's training step time over ResNet-20's, each in its faster memory format."""
    fastest = {}
    for row in rows:
        model = row["model"]
        fastest[model] = min(fastest.get(model, math.inf), row["train_step_s"])
    return fastest["resnet50"] / fastest["resnet20"]


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def markdown(record: dict) -> str:
    """Render the benchmark record as a Markdown page."""
    lines = [
        "# Pruning study cost: ResNet-20 against ResNet50 on CIFAR-10",
        "",
        f"Machine: {record['machine']}.",
        f"Command: `{record['command']}`",
        "",
        "Per-step figures are medians over repeats. The study columns extrapolate them to the",
        "demo study (3 dense epochs on 45,000 images, 24 trials of 20 fine-tuning steps at",
        "batch size 128, plus 1,000 validation and 1,000 test images evaluated per trial).",
        "The ResNet50 columns are extrapolations from a few measured steps, not a run.",
        "",
        "| model | memory format | train step (s) | train img/s | eval img/s | dense training | one trial | whole study |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in record["rows"]:
        cost = row["extrapolated"]
        lines.append(
            f"| {row['model']} | {row['memory_format']} | {row['train_step_s']:.3f} | "
            f"{row['train_images_per_s']:.0f} | {row['eval_images_per_s']:.0f} | "
            f"{_minutes(cost['dense_training_s'])} | {cost['trial_s']:.0f} s | {_minutes(cost['study_s'])} |"
        )
    demo = record.get("measured_resnet20_demo")
    if demo:
        ratio = step_ratio(record["rows"])
        lines += [
            "",
            "Measured ResNet-20 demo run (the command of the pruning guide, same machine): dense "
            f"training {_minutes(demo['dense_training_s'])}, median trial {demo['trial_s']:.0f} s, "
            f"whole command {_minutes(demo['study_s'])}.",
            "",
            f"A ResNet50 training step took {ratio:.1f} times as long as a ResNet-20 step (each in",
            "its faster memory format). Scaling the measured demo run by that ratio gives the",
            f"estimate for `--model resnet50`: dense training about "
            f"{_minutes(demo['dense_training_s'] * ratio)}, one trial about "
            f"{_minutes(demo['trial_s'] * ratio)}, and 24 trials about "
            f"{_minutes(TRIALS * demo['trial_s'] * ratio)}.",
        ]
    lines += [
        "",
        "NOTE: other jobs shared the two cores during these measurements, so every figure is",
        "pessimistic and varies between runs.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
