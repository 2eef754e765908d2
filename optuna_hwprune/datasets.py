"""Image classification datasets held in memory as uint8 tensors.

Every loader returns an :class:`ImageDataset`: the whole split decoded once into an
``N x C x H x W`` uint8 tensor plus int64 labels. Small vision datasets fit in memory this way
(CIFAR-10's 60,000 images take 184 MB), and training then slices batches from one tensor instead
of running a per-image transform, which is what makes CPU fine-tuning affordable.

Sources:

- ``cifar10``: a torchvision ``CIFAR10`` folder (downloaded through torchvision when
  ``download=True``), a folder holding ``cifar10-jpeg.zip``, or a folder with
  ``train/<class>/*.jpg`` and ``test/<class>/*.jpg``.
- every 2D MedMNIST flag except the multi-label ``chestmnist``: the real ``medmnist`` classes,
  which read ``<flag>.npz`` from ``root`` and download it when allowed.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

_logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")

# Size of the validation split that CIFAR-10 lacks: a fixed, class-stratified hold-out of the
# 50,000 training images. Its seed is fixed, so every run and process uses the same split.
CIFAR10_VAL_SIZE = 5000
_CIFAR10_VAL_SEED = 0

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
# Per-channel mean and standard deviation of the CIFAR-10 training images (values widely used
# with torchvision's CIFAR10, computed on the 50,000 training images in [0, 1]).
_CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
_CIFAR10_STD = (0.2470, 0.2435, 0.2616)

# MedMNIST's own examples normalise with mean 0.5 and std 0.5 per channel.
_MEDMNIST_MEAN = 0.5
_MEDMNIST_STD = 0.5
_MEDMNIST_MULTI_LABEL = ("chestmnist",)


@dataclass
class ImageDataset:
    """One split of an image classification dataset, decoded into memory.

    Attributes:
        name: Dataset name, for example ``"cifar10"`` or ``"breastmnist"``.
        split: ``"train"``, ``"val"`` or ``"test"``.
        images: uint8 tensor of shape ``N x C x H x W``.
        labels: int64 tensor of shape ``N`` (MedMNIST's ``N x 1`` labels are flattened).
        classes: Class names, indexed by label.
        mean: Per-channel mean used to normalise images scaled to [0, 1].
        std: Per-channel standard deviation used to normalise images scaled to [0, 1].
    """

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    mean: tuple[float, ...] = field(default=())
    std: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"images must be a uint8 tensor N x C x H x W, got {self.images.dtype} "
                f"with shape {tuple(self.images.shape)}"
            )
        self.labels = self.labels.reshape(-1).to(torch.int64)
        if len(self.labels) != len(self.images):
            raise ValueError(
                f"{len(self.images)} images but {len(self.labels)} labels in {self.name}/{self.split}"
            )
        if not self.mean:
            self.mean = (_MEDMNIST_MEAN,) * self.in_channels
        if not self.std:
            self.std = (_MEDMNIST_STD,) * self.in_channels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = normalize(self.images[index : index + 1], self.mean, self.std)[0]
        return image, int(self.labels[index])

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    @property
    def in_channels(self) -> int:
        """Number of image channels (1 for grey-scale, 3 for RGB)."""
        return int(self.images.shape[1])

    @property
    def image_size(self) -> tuple[int, int]:
        """Image height and width in pixels."""
        return int(self.images.shape[2]), int(self.images.shape[3])

    def subset(self, n: int | None, seed: int = 0) -> ImageDataset:
        """Return a class-stratified random subset of ``n`` images (all images when ``n`` is None).

        Args:
            n: Number of images to keep, at least 1.
            seed: Seed of the selection, so equal seeds select equal images.

        Returns:
            A new dataset that shares no storage with this one.
        """
        if n is None or n >= len(self):
            return self
        if n < 1:
            raise ValueError(f"subset size must be a positive integer, got {n}")
        indices = _stratified_indices(self.labels, n, seed)
        return self.take(indices)

    def take(self, indices: torch.Tensor) -> ImageDataset:
        """Return the images at ``indices`` as a new dataset of the same split."""
        return ImageDataset(
            name=self.name,
            split=self.split,
            images=self.images[indices].clone(),
            labels=self.labels[indices].clone(),
            classes=list(self.classes),
            mean=self.mean,
            std=self.std,
        )


def normalize(
    images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]
) -> torch.Tensor:
    """Scale uint8 images to [0, 1] and normalise each channel by ``mean`` and ``std``."""
    x = images.to(torch.float32).div_(255.0)
    mean_t = torch.tensor(mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    return x.sub_(mean_t).div_(std_t)


def iterate_batches(
    dataset: ImageDataset,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    augment: bool = False,
    device: str | torch.device = "cpu",
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield normalised float32 batches ``(x, y)`` from ``dataset``.

    Args:
        dataset: The split to iterate over.
        batch_size: Images per batch; the last batch may be smaller.
        shuffle: Visit images in a random order drawn from ``seed``.
        seed: Seed of the order and of the augmentation.
        augment: Apply a random crop (zero padding of 4 pixels) and a random horizontal flip,
            the standard CIFAR augmentation.
        device: Device that receives the batches.

    Yields:
        ``x`` of shape ``B x C x H x W`` (float32) and ``y`` of shape ``B`` (int64).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    n = len(dataset)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        images = dataset.images[index]
        if augment:
            images = _random_crop_flip(images, generator)
        x = normalize(images.to(device, non_blocking=True), dataset.mean, dataset.std)
        y = dataset.labels[index].to(device, non_blocking=True)
        yield x, y


def _random_crop_flip(images: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    batch, _, height, width = images.shape
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (batch,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (batch,), generator=generator)
    rows = (dy.view(-1, 1) + torch.arange(height).view(1, -1)).view(batch, 1, height, 1)
    cols = (dx.view(-1, 1) + torch.arange(width).view(1, -1)).view(batch, 1, 1, width)
    batch_index = torch.arange(batch).view(batch, 1, 1, 1)
    channel_index = torch.arange(images.shape[1]).view(1, -1, 1, 1)
    cropped = padded[batch_index, channel_index, rows, cols]

    flip = torch.rand(batch, generator=generator) < 0.5
    cropped[flip] = cropped[flip].flip(-1)
    return cropped


def _stratified_indices(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    classes, counts = torch.unique(labels, return_counts=True)
    quotas = torch.floor(counts.double() * n / len(labels)).long()
    # Hand the images left over by rounding down to the largest classes first.
    remainder = n - int(quotas.sum())
    for position in torch.argsort(counts, descending=True)[:remainder]:
        quotas[position] += 1
    chosen = []
    for label, quota in zip(classes.tolist(), quotas.tolist()):
        members = torch.nonzero(labels == label).flatten()
        chosen.append(members[torch.randperm(len(members), generator=generator)[:quota]])
    return torch.sort(torch.cat(chosen)).values


def medmnist_flags() -> list[str]:
    """Return the 2D MedMNIST flags that :func:`load_dataset` accepts."""
    import medmnist

    return [
        flag
        for flag in medmnist.INFO
        if not flag.endswith("3d") and flag not in _MEDMNIST_MULTI_LABEL
    ]


def available_datasets() -> list[str]:
    """Return every dataset name that :func:`load_dataset` accepts."""
    return ["cifar10", *medmnist_flags()]


def load_dataset(
    name: str,
    root: str | Path | None = None,
    split: str = "train",
    download: bool = True,
) -> ImageDataset:
    """Load one split of a dataset into memory.

    Args:
        name: ``"cifar10"`` or a 2D MedMNIST flag such as ``"pathmnist"``.
        root: Folder that contains the data (see the module docstring for the accepted layouts);
            defaults to ``./data/<name>``.
        split: ``"train"``, ``"val"`` or ``"test"``.
        download: Download the files when they are missing from ``root``.

    Returns:
        The split as an :class:`ImageDataset`.

    Raises:
        ValueError: ``name`` or ``split`` is unknown.
        FileNotFoundError: The files are missing and could not be downloaded; the message names
            the file and how to provide it.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    key = name.lower()
    root_path = Path(root) if root is not None else Path("data") / key
    if key == "cifar10":
        return _load_cifar10(root_path, split, download)
    if key in _MEDMNIST_MULTI_LABEL:
        raise ValueError(
            f"dataset {name!r} is a multi-label task; seed search and pruning need single-label "
            "classification, so pick another MedMNIST flag"
        )
    if key in medmnist_flags():
        return _load_medmnist(key, root_path, split, download)
    raise ValueError(f"unknown dataset {name!r}; use one of: {', '.join(available_datasets())}")


def _load_medmnist(flag: str, root: Path, split: str, download: bool) -> ImageDataset:
    import medmnist

    info = medmnist.INFO[flag]
    dataset_class = getattr(medmnist, info["python_class"])
    npz = root / f"{flag}.npz"
    if not npz.exists() and not download:
        raise FileNotFoundError(
            f"{npz} not found; download it from {info['url']} into {root} "
            "or run again with downloading enabled"
        )
    root.mkdir(parents=True, exist_ok=True)
    try:
        source = dataset_class(split=split, root=str(root), download=download and not npz.exists())
    except Exception as error:  # medmnist raises bare RuntimeError / URLError types offline.
        if npz.exists():
            raise
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise FileNotFoundError(
            f"{npz} not found and the download failed ({reason}); fetch {info['url']} "
            f"into {root} by hand, then pass --data-root {root}"
        ) from error

    images = torch.from_numpy(np.ascontiguousarray(source.imgs))
    images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)
    labels = torch.from_numpy(np.asarray(source.labels).reshape(len(images), -1)[:, 0].astype(np.int64))
    classes = [info["label"][str(i)] for i in range(len(info["label"]))]
    return ImageDataset(
        name=flag, split=split, images=images.contiguous(), labels=labels, classes=classes
    )


def _load_cifar10(root: Path, split: str, download: bool) -> ImageDataset:
    train_images, train_labels, test_images, test_labels = _read_cifar10(root, download)
    if split == "test":
        images, labels = test_images, test_labels
    else:
        val_index = _stratified_indices(train_labels, CIFAR10_VAL_SIZE, _CIFAR10_VAL_SEED)
        is_val = torch.zeros(len(train_labels), dtype=torch.bool)
        is_val[val_index] = True
        keep = is_val if split == "val" else ~is_val
        images, labels = train_images[keep], train_labels[keep]
    return ImageDataset(
        name="cifar10",
        split=split,
        images=images.contiguous(),
        labels=labels,
        classes=list(CIFAR10_CLASSES),
        mean=_CIFAR10_MEAN,
        std=_CIFAR10_STD,
    )


_CIFAR10_CACHE: dict[Path, tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = {}


def _read_cifar10(root: Path, download: bool) -> tuple[torch.Tensor, ...]:
    key = root.resolve()
    if key not in _CIFAR10_CACHE:
        _CIFAR10_CACHE[key] = _decode_cifar10(root, download)
    return _CIFAR10_CACHE[key]


def _decode_cifar10(root: Path, download: bool) -> tuple[torch.Tensor, ...]:
    zip_path = root / "cifar10-jpeg.zip"
    if zip_path.exists():
        _logger.info("decoding CIFAR-10 JPEG images from %s", zip_path)
        with zipfile.ZipFile(zip_path) as archive:
            return (*_decode_jpeg_split(archive, "train"), *_decode_jpeg_split(archive, "test"))
    if (root / "train").is_dir() and (root / "test").is_dir():
        _logger.info("decoding CIFAR-10 JPEG images from %s", root)
        return (*_decode_jpeg_folder(root / "train"), *_decode_jpeg_folder(root / "test"))
    return _load_torchvision_cifar10(root, download)


def _load_torchvision_cifar10(root: Path, download: bool) -> tuple[torch.Tensor, ...]:
    from torchvision.datasets import CIFAR10

    arrays = []
    for train in (True, False):
        try:
            source = CIFAR10(root=str(root), train=train, download=download)
        except RuntimeError as error:
            raise FileNotFoundError(
                f"CIFAR-10 not found in {root} ({error}); put torchvision's cifar-10-batches-py "
                "folder, cifar10-jpeg.zip or train/<class>/*.jpg + test/<class>/*.jpg there, "
                "or run again with downloading enabled and a network"
            ) from error
        except OSError as error:
            raise FileNotFoundError(
                f"CIFAR-10 not found in {root} and the download failed ({error}); put "
                "torchvision's cifar-10-batches-py folder, cifar10-jpeg.zip or "
                "train/<class>/*.jpg + test/<class>/*.jpg there by hand and pass --data-root"
            ) from error
        images = torch.from_numpy(source.data).permute(0, 3, 1, 2).contiguous()
        arrays += [images, torch.tensor(source.targets, dtype=torch.int64)]
    return tuple(arrays)


def _decode_jpeg_split(archive: zipfile.ZipFile, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    entries = sorted(
        name for name in archive.namelist() if name.startswith(f"{split}/") and name.endswith(".jpg")
    )
    return _decode_entries(entries, split, lambda name: archive.read(name))


def _decode_jpeg_folder(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    entries = sorted(str(path.relative_to(folder.parent)) for path in folder.glob("*/*.jpg"))
    return _decode_entries(entries, folder.name, lambda name: (folder.parent / name).read_bytes())


def _decode_entries(entries, split, read) -> tuple[torch.Tensor, torch.Tensor]:
    from PIL import Image

    if not entries:
        raise FileNotFoundError(f"no {split}/<class>/*.jpg images found for CIFAR-10")
    index_of = {name: i for i, name in enumerate(CIFAR10_CLASSES)}
    images = np.empty((len(entries), 32, 32, 3), dtype=np.uint8)
    labels = np.empty(len(entries), dtype=np.int64)
    for i, name in enumerate(entries):
        class_name = name.split("/")[1]
        if class_name not in index_of:
            raise ValueError(f"unknown CIFAR-10 class folder {class_name!r} in {name}")
        with Image.open(io.BytesIO(read(name))) as image:
            images[i] = np.asarray(image.convert("RGB"))
        labels[i] = index_of[class_name]
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels)
