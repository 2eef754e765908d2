from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import require_data

from optuna_hwprune.datasets import CIFAR10_VAL_SIZE, iterate_batches, load_dataset


def test_breastmnist_matches_medmnist_loader() -> None:
    import medmnist

    root = require_data("medmnist/breastmnist.npz").parent
    dataset = load_dataset("breastmnist", root, "test", download=False)
    reference = medmnist.BreastMNIST(split="test", root=str(root), download=False)

    assert len(dataset) == 156
    assert dataset.in_channels == 1
    assert dataset.image_size == (28, 28)
    assert dataset.num_classes == 2
    assert torch.equal(dataset.images[:, 0], torch.from_numpy(reference.imgs))
    assert torch.equal(dataset.labels, torch.from_numpy(reference.labels[:, 0].astype(np.int64)))


def test_cifar10_zip_splits_are_disjoint_and_stratified() -> None:
    root = require_data("cifar10/cifar10-jpeg.zip").parent
    train = load_dataset("cifar10", root, "train", download=False)
    val = load_dataset("cifar10", root, "val", download=False)
    test = load_dataset("cifar10", root, "test", download=False)

    assert len(train) == 50000 - CIFAR10_VAL_SIZE
    assert len(val) == CIFAR10_VAL_SIZE
    assert len(test) == 10000
    assert torch.bincount(val.labels).tolist() == [CIFAR10_VAL_SIZE // 10] * 10
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    assert train.images.shape[1:] == (3, 32, 32)
    # No image of the hold-out appears in the training split.
    train_keys = {bytes(image.numpy().tobytes()) for image in train.images[:2000]}
    assert not any(bytes(image.numpy().tobytes()) in train_keys for image in val.images)


def test_subset_is_stratified_and_seeded() -> None:
    root = require_data("cifar10/cifar10-jpeg.zip").parent
    test = load_dataset("cifar10", root, "test", download=False)
    first = test.subset(500, seed=3)
    again = test.subset(500, seed=3)
    other = test.subset(500, seed=4)

    assert len(first) == 500
    assert torch.bincount(first.labels).tolist() == [50] * 10
    assert torch.equal(first.images, again.images)
    assert not torch.equal(first.images, other.images)


def test_batches_are_normalised_and_cover_dataset() -> None:
    root = require_data("medmnist/breastmnist.npz").parent
    dataset = load_dataset("breastmnist", root, "val", download=False)
    seen = 0
    for x, y in iterate_batches(dataset, 32, shuffle=True, seed=1, augment=True):
        assert x.dtype == torch.float32
        assert x.shape[1:] == (1, 28, 28)
        assert x.min() >= -1.0
        assert x.max() <= 1.0
        seen += len(y)
    assert seen == len(dataset)


def test_missing_medmnist_file_names_it(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="pathmnist.npz"):
        load_dataset("pathmnist", tmp_path, "train", download=False)


def test_unknown_dataset_and_split_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        load_dataset("cifar10", split="validation")
    with pytest.raises(ValueError, match="multi-label"):
        load_dataset("chestmnist")
