"""Dataset complexity descriptors and the similarity that picks a HW-NAS-Bench reference dataset.

A descriptor holds the number of classes, image channels, resolution, training samples per class
and a measured difficulty signal:

    difficulty = 1 - (a - 1/K) / (1 - 1/K)

where ``a`` is the test accuracy of a nearest-class-mean classifier on a stratified subset
(half fits the class means, the other half is classified) and ``K`` the number of classes. Each
image is area-resized to 16x16 and standardised to zero mean and unit norm, so the signal does
not depend on resolution or brightness. 0 means the classes separate perfectly in pixel space,
1 means the probe does no better than chance. It costs one pass over at most a few thousand
images.

The similarity of two descriptors is ``exp(-d)``, with ``d`` the weighted mean of the absolute
differences of: log2 classes, log2 resolution, log10 samples per class, channel count (0 or 1)
and difficulty. A term whose value is unknown on either side is left out of the mean.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optuna_hwprune.datasets import ImageDataset

PROBE_RESOLUTION = 16
DEFAULT_PROBE_SIZE = 2000

# Weights of the terms of the distance.
WEIGHTS: dict[str, float] = {
    "classes": 1.0,
    "resolution": 1.0,
    "samples_per_class": 0.5,
    "channels": 0.5,
    "difficulty": 1.0,
}


@dataclass(frozen=True)
class DatasetDescriptor:
    """Complexity descriptor of an image classification dataset.

    Attributes:
        name: Dataset name.
        num_classes: Number of classes.
        channels: Image channels (1 grey-scale, 3 RGB).
        resolution: Image side in pixels (geometric mean of height and width).
        samples_per_class: Training images per class (mean over classes).
        difficulty: Chance-corrected nearest-class-mean error in [0, 1], or None when unknown.
    """

    name: str
    num_classes: int
    channels: int
    resolution: float
    samples_per_class: float
    difficulty: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the descriptor as a JSON-ready dict."""
        return asdict(self)


# Training-set descriptors of the HW-NAS-Bench reference datasets. Classes, shapes and image
# counts: CIFAR-10/100 have 50,000 training images (Krizhevsky, 2009); ImageNet16-120 has
# 151,700 training images over 120 classes at 16x16 (NAS-Bench-201, Dong and Yang, ICLR 2020).
# The CIFAR-10 difficulty was measured with `measure_difficulty` (2,000 stratified images, seed
# 0) on the "train" split that `optuna_hwprune.datasets.load_dataset("cifar10")` returns.
# NOTE: no CIFAR-100 or ImageNet16-120 images were available to measure their difficulty, so
# their difficulty is unknown and that term is left out of their distances.
REFERENCE_DESCRIPTORS: dict[str, DatasetDescriptor] = {
    "cifar10": DatasetDescriptor("cifar10", 10, 3, 32.0, 5000.0, 0.7967),
    "cifar100": DatasetDescriptor("cifar100", 100, 3, 32.0, 500.0, None),
    "ImageNet16-120": DatasetDescriptor("ImageNet16-120", 120, 3, 16.0, 151700 / 120, None),
}


def measure_difficulty(dataset: ImageDataset, probe_size: int = DEFAULT_PROBE_SIZE, seed: int = 0) -> float:
    """Measure the chance-corrected error of a nearest-class-mean probe on ``dataset``.

    Args:
        dataset: Training split of the dataset.
        probe_size: Images in the stratified subset (half fit, half evaluated).
        seed: Seed of the subset and of the fit/evaluate split.

    Returns:
        The difficulty in [0, 1] (see the module docstring).
    """
    import torch

    subset = dataset.subset(min(probe_size, len(dataset)), seed=seed)
    features = subset.images.to(torch.float32)
    features = torch.nn.functional.adaptive_avg_pool2d(features, PROBE_RESOLUTION).flatten(1)
    features = features - features.mean(dim=1, keepdim=True)
    features = features / features.norm(dim=1, keepdim=True).clamp_min(1e-6)
    labels = subset.labels

    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=generator)
    fit, evaluate = order[: len(order) // 2], order[len(order) // 2 :]
    classes = torch.unique(labels[fit])
    means = torch.stack([features[fit][labels[fit] == label].mean(dim=0) for label in classes])
    predicted = classes[torch.cdist(features[evaluate], means).argmin(dim=1)]
    accuracy = float((predicted == labels[evaluate]).float().mean())

    chance = 1.0 / dataset.num_classes
    corrected = (accuracy - chance) / (1.0 - chance)
    return float(min(max(1.0 - corrected, 0.0), 1.0))


def describe_dataset(
    dataset: ImageDataset, probe_size: int = DEFAULT_PROBE_SIZE, seed: int = 0
) -> DatasetDescriptor:
    """Describe the training split ``dataset``, measuring its difficulty (see the module docstring)."""
    height, width = dataset.image_size
    return DatasetDescriptor(
        name=dataset.name,
        num_classes=dataset.num_classes,
        channels=dataset.in_channels,
        resolution=math.sqrt(height * width),
        samples_per_class=len(dataset) / dataset.num_classes,
        difficulty=measure_difficulty(dataset, probe_size, seed),
    )


def descriptor_distance(first: DatasetDescriptor, second: DatasetDescriptor) -> float:
    """Return the weighted mean difference of two descriptors (0 for identical ones)."""
    terms = {
        "classes": abs(math.log2(first.num_classes) - math.log2(second.num_classes)),
        "resolution": abs(math.log2(first.resolution) - math.log2(second.resolution)),
        "samples_per_class": abs(math.log10(first.samples_per_class) - math.log10(second.samples_per_class)),
        "channels": float(first.channels != second.channels),
    }
    if first.difficulty is not None and second.difficulty is not None:
        terms["difficulty"] = abs(first.difficulty - second.difficulty)
    total_weight = sum(WEIGHTS[name] for name in terms)
    return sum(WEIGHTS[name] * value for name, value in terms.items()) / total_weight


def similarity_scores(
    descriptor: DatasetDescriptor,
    references: dict[str, DatasetDescriptor] | None = None,
) -> dict[str, float]:
    """Return the similarity in (0, 1] of ``descriptor`` to every reference dataset."""
    references = REFERENCE_DESCRIPTORS if references is None else references
    return {name: math.exp(-descriptor_distance(descriptor, reference)) for name, reference in references.items()}


def closest_reference(
    descriptor: DatasetDescriptor,
    references: dict[str, DatasetDescriptor] | None = None,
) -> tuple[str, dict[str, float]]:
    """Pick the reference dataset most similar to ``descriptor``.

    Returns:
        The reference name and the similarity scores of all references.
    """
    scores = similarity_scores(descriptor, references)
    return max(scores, key=scores.__getitem__), scores
