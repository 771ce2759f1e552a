"""Datasets and a seeded batch loader.

Generated sets (XOR, two moons, spirals, linearly separable blobs) and Fashion-MNIST,
read from the standard IDX ``.gz`` files in a folder. Nothing is ever downloaded: on
Debian, ``apt-get install dataset-fashion-mnist`` puts the files in
``/usr/share/datasets/fashion-mnist/``.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FASHION_MNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000),
}
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
HOW_TO_GET_FASHION_MNIST = (
    "install Debian's package (apt-get install dataset-fashion-mnist, which puts the files in "
    "/usr/share/datasets/fashion-mnist/), or copy the four IDX .gz files of the Fashion-MNIST "
    "release (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
    "t10k-labels-idx1-ubyte.gz) into a folder and pass --data-dir (or set TINYGRAD_NOTES_DATA)"
)


@dataclass
class Dataset:
    """Features ``x`` (float32) and integer labels ``y``, with the number of classes.

    >>> import numpy as np
    >>> ds = Dataset(np.zeros((3, 2), dtype=np.float32), np.array([0, 1, 1]), num_classes=2)
    >>> len(ds), ds.x.shape, ds.y.tolist()
    (3, (3, 2), [0, 1, 1])
    """

    x: np.ndarray
    y: np.ndarray
    num_classes: int

    def __len__(self) -> int:
        return len(self.y)


class DataLoader:
    """Iterate over ``(x_batch, y_batch)`` numpy pairs; seeded shuffling, optional drop_last.

    Each pass over the loader is one epoch; the order differs between epochs but is the
    same for the same seed.

    >>> import numpy as np
    >>> loader = DataLoader(np.arange(10.0), np.arange(10), batch_size=4, shuffle=False)
    >>> [len(y) for _, y in loader]
    [4, 4, 2]
    """

    def __init__(self, x, y, batch_size: int = 32, shuffle: bool = True, drop_last: bool = False, seed: int = 0):
        if len(x) != len(y):
            raise ValueError(f"DataLoader: {len(x)} inputs but {len(y)} labels")
        if batch_size <= 0:
            raise ValueError(f"DataLoader needs batch_size > 0, got {batch_size}")
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        full, rest = divmod(len(self.y), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def __iter__(self):
        n = len(self.y)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            index = order[start : start + self.batch_size]
            yield self.x[index], self.y[index]


# ---------------------------------------------------------------------- generated sets
def xor(n: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Points around the four corners of the unit square; label 1 where exactly one coordinate is high.

    >>> ds = xor(8, seed=0)
    >>> ds.x.shape, ds.num_classes
    ((8, 2), 2)
    >>> bool((ds.y == ((ds.x[:, 0] > 0.5) ^ (ds.x[:, 1] > 0.5))).all())
    True
    """
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n, 2))
    x = corners + rng.normal(0, noise, size=(n, 2))
    return Dataset(x.astype(np.float32), (corners[:, 0] ^ corners[:, 1]).astype(np.int64), 2)


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles.

    >>> ds = moons(100, seed=0)
    >>> ds.x.shape, ds.x.dtype.name, sorted(set(ds.y.tolist()))
    ((100, 2), 'float32', [0, 1])
    >>> bool((moons(seed=1).x == moons(seed=1).x).all())  # the same seed gives the same points
    True
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    t = rng.uniform(0, np.pi, n)
    x = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    x = x + rng.normal(0, noise, x.shape)
    return Dataset(x.astype(np.float32), y.astype(np.int64), 2)


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0) -> Dataset:
    """``classes`` interleaved spiral arms.

    >>> ds = spirals(300, classes=4, seed=0)
    >>> ds.x.shape, ds.num_classes, sorted(set(ds.y.tolist()))
    ((300, 2), 4, [0, 1, 2, 3])
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    r = rng.uniform(0.05, 1.0, n)
    theta = y * (2 * np.pi / classes) + 4.0 * r + rng.normal(0, noise, n)
    x = np.c_[r * np.sin(theta), r * np.cos(theta)]
    return Dataset(x.astype(np.float32), y.astype(np.int64), classes)


def blobs(n: int = 200, margin: float = 0.5, seed: int = 0) -> Dataset:
    """Two linearly separable clouds in 2-D, at least ``margin`` from the line x0 + x1 = 0.

    >>> import numpy as np
    >>> ds = blobs(200, margin=0.5, seed=0)
    >>> side = ds.x.sum(axis=1) / np.sqrt(2)  # signed distance to the line
    >>> bool((np.sign(side) == np.where(ds.y == 1, 1, -1)).all()), bool(np.abs(side).min() > 0.49)
    (True, True)
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 1, (n, 2))
    side = (x @ np.array([1.0, 1.0])) / np.sqrt(2)
    sign = np.where(y == 1, 1.0, -1.0)
    shift = (np.maximum(margin - sign * side, 0) + rng.uniform(0, 0.5, n)) * sign
    x = x + np.outer(shift, np.array([1.0, 1.0]) / np.sqrt(2))
    return Dataset(x.astype(np.float32), y.astype(np.int64), 2)


GENERATED = {"xor": xor, "moons": moons, "spirals": spirals, "blobs": blobs}


# ---------------------------------------------------------------------- Fashion-MNIST
def _read_idx(path: Path, magic: int, count: int) -> np.ndarray:
    """Read one gzipped IDX file, checking its magic number, dimensions and length."""
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"Fashion-MNIST file {path} is missing; {HOW_TO_GET_FASHION_MNIST}") from None
    except (OSError, EOFError) as e:
        raise ValueError(f"Fashion-MNIST file {path} is corrupt ({e}); {HOW_TO_GET_FASHION_MNIST}") from None
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header or int.from_bytes(raw[:4], "big") != magic:
        raise ValueError(f"Fashion-MNIST file {path} is not an IDX file of the expected kind; "
                         f"{HOW_TO_GET_FASHION_MNIST}")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    if dims[0] != count or len(raw) != header + int(np.prod(dims)):
        raise ValueError(f"Fashion-MNIST file {path} has dimensions {dims} and {len(raw) - header} data bytes, "
                         f"expected {count} items; it is truncated or corrupt. {HOW_TO_GET_FASHION_MNIST}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_fashion_mnist(data_dir=None) -> Path:
    """The folder holding the Fashion-MNIST files: ``data_dir``, $TINYGRAD_NOTES_DATA, or Debian's.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:  # doctest: +ELLIPSIS
    ...     find_fashion_mnist(folder)
    Traceback (most recent call last):
        ...
    FileNotFoundError: Fashion-MNIST was not found in ...; install Debian's package (apt-get install ...
    """
    candidates = [data_dir] if data_dir else [os.environ.get("TINYGRAD_NOTES_DATA"), *FASHION_MNIST_DIRS]
    for folder in filter(None, candidates):
        if (Path(folder) / FASHION_MNIST_FILES["test"][0]).exists():
            return Path(folder)
    where = data_dir or ", ".join(filter(None, candidates))
    raise FileNotFoundError(f"Fashion-MNIST was not found in {where}; {HOW_TO_GET_FASHION_MNIST}")


def fashion_mnist(split: str = "train", data_dir=None, limit: int | None = None) -> Dataset:
    """Fashion-MNIST images as float32 (N, 1, 28, 28) in [0, 1] and labels 0-9.

    ``limit`` keeps the first ``limit`` examples.

    >>> try:  # the files may not be installed: then only the shapes they would give are shown
    ...     ds = fashion_mnist("test", limit=4)
    ...     print(ds.x.shape, ds.x.dtype, 0.0 <= ds.x.min() <= ds.x.max() <= 1.0, ds.num_classes)
    ... except FileNotFoundError:
    ...     print((4, 1, 28, 28), "float32", True, 10)
    (4, 1, 28, 28) float32 True 10
    """
    if split not in FASHION_MNIST_FILES:
        raise ValueError(f"fashion_mnist: split must be 'train' or 'test', got {split!r}")
    folder = find_fashion_mnist(data_dir)
    images_file, labels_file, count = FASHION_MNIST_FILES[split]
    images = _read_idx(folder / images_file, 0x00000803, count)
    labels = _read_idx(folder / labels_file, 0x00000801, count)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = (images.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return Dataset(x, labels.astype(np.int64), 10)


def load_dataset(name: str, split: str = "train", data_dir=None, seed: int = 0) -> Dataset:
    """A dataset by name: a generated one (train and test drawn with different seeds) or fashion-mnist.

    >>> train, test = load_dataset("moons"), load_dataset("moons", "test")
    >>> train.x.shape, bool((train.x == test.x).all())
    ((200, 2), False)
    >>> load_dataset("circles")
    Traceback (most recent call last):
        ...
    ValueError: unknown dataset 'circles'; choose one of ['blobs', 'moons', 'spirals', 'xor', 'fashion-mnist']
    """
    if name == "fashion-mnist":
        return fashion_mnist(split, data_dir)
    if name not in GENERATED:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(GENERATED) + ['fashion-mnist']}")
    return GENERATED[name](seed=seed if split == "train" else seed + 10_000)
