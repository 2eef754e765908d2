from __future__ import annotations

import pytest
from conftest import require_data

from optuna_hwprune.nasbench.similarity import (
    REFERENCE_DESCRIPTORS,
    DatasetDescriptor,
    closest_reference,
    describe_dataset,
    measure_difficulty,
)


def test_pathmnist_maps_to_cifar10() -> None:
    # PathMNIST: 9 classes, 28x28 RGB, 89,996 training images (MedMNIST v2).
    pathmnist = DatasetDescriptor("pathmnist", 9, 3, 28.0, 89996 / 9)
    reference, scores = closest_reference(pathmnist)
    assert reference == "cifar10"
    assert set(scores) == set(REFERENCE_DESCRIPTORS)
    assert scores["cifar10"] > scores["cifar100"] > 0
    assert scores["cifar10"] > scores["ImageNet16-120"] > 0


@pytest.mark.parametrize("difficulty", [None, 0.3, 0.95])
def test_hundred_classes_32px_maps_to_cifar100(difficulty: float | None) -> None:
    reference, _ = closest_reference(DatasetDescriptor("x", 100, 3, 32.0, 500.0, difficulty))
    assert reference == "cifar100"


@pytest.mark.parametrize("classes", [101, 120, 200, 1000])
def test_16px_over_100_classes_maps_to_imagenet16(classes: int) -> None:
    reference, _ = closest_reference(DatasetDescriptor("x", classes, 3, 16.0, 600.0, 0.9))
    assert reference == "ImageNet16-120"


def test_identical_descriptor_scores_one() -> None:
    _, scores = closest_reference(REFERENCE_DESCRIPTORS["cifar100"])
    assert scores["cifar100"] == pytest.approx(1.0)


def test_breastmnist_descriptor() -> None:
    require_data("medmnist/breastmnist.npz")
    from optuna_hwprune.datasets import load_dataset

    train = load_dataset("breastmnist", require_data("medmnist"), "train", download=False)
    descriptor = describe_dataset(train)
    assert descriptor.num_classes == 2
    assert descriptor.channels == 1
    assert descriptor.resolution == 28.0
    assert descriptor.samples_per_class == 546 / 2
    assert 0.0 <= descriptor.difficulty <= 1.0
    assert descriptor.difficulty == measure_difficulty(train)
    reference, scores = closest_reference(descriptor)
    assert reference == "cifar10"
    assert len(scores) == 3
