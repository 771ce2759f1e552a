"""Datasets and the batch loader; the Fashion-MNIST reader on small IDX files made here."""

import gzip

import numpy as np
import pytest

from tinygrad_notes import data


def test_loader_batches_shuffle_and_drop_last():
    x, y = np.arange(10.0), np.arange(10)
    loader = data.DataLoader(x, y, batch_size=4, shuffle=True, drop_last=True, seed=0)
    batches = list(loader)
    assert len(loader) == 2 and [len(b[1]) for b in batches] == [4, 4]
    seen = np.concatenate([b[1] for b in batches])
    assert len(set(seen)) == 8
    again = list(data.DataLoader(x, y, batch_size=4, shuffle=True, drop_last=True, seed=0))
    assert all((a[1] == b[1]).all() for a, b in zip(batches, again)), "same seed, same order"
    second_epoch = list(loader)
    assert any((a[1] != b[1]).any() for a, b in zip(batches, second_epoch)), "each epoch reshuffles"


def test_loader_checks_lengths():
    with pytest.raises(ValueError, match="3 inputs but 2 labels"):
        data.DataLoader(np.zeros(3), np.zeros(2))


@pytest.mark.parametrize("name", sorted(data.GENERATED))
def test_generated_sets(name):
    ds = data.load_dataset(name)
    assert ds.x.dtype == np.float32 and ds.x.shape[1] == 2 and len(ds) == len(ds.x)
    assert set(np.unique(ds.y)) == set(range(ds.num_classes))
    test = data.load_dataset(name, split="test")
    assert not np.array_equal(ds.x[:5], test.x[:5]), "train and test are drawn separately"


def test_xor_labels_are_exclusive_or():
    ds = data.xor(n=100, noise=0.0)
    np.testing.assert_array_equal(ds.y, (ds.x[:, 0] > 0.5) ^ (ds.x[:, 1] > 0.5))


def test_blobs_are_linearly_separable():
    ds = data.blobs(n=500, margin=0.5)
    side = ds.x @ np.array([1.0, 1.0])
    assert ((side > 0) == (ds.y == 1)).all()


def write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reader_on_made_up_files(tmp_path):
    rng = np.random.default_rng(0)
    images, labels, count = data.FASHION_MNIST_FILES["test"]
    pixels = rng.integers(0, 256, (count, 28, 28))
    write_idx(tmp_path / images, pixels, 0x803)
    write_idx(tmp_path / labels, pixels[:, 0, 0] % 10, 0x801)
    ds = data.fashion_mnist("test", data_dir=tmp_path, limit=50)
    assert ds.x.shape == (50, 1, 28, 28) and ds.x.dtype == np.float32
    np.testing.assert_allclose(ds.x[:, 0] * 255, pixels[:50], atol=1e-4)
    np.testing.assert_array_equal(ds.y, pixels[:50, 0, 0] % 10)


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.fashion_mnist("test", data_dir=tmp_path)


def test_truncated_fashion_mnist_is_refused(tmp_path):
    images, labels, count = data.FASHION_MNIST_FILES["test"]
    write_idx(tmp_path / images, np.zeros((count - 1, 28, 28)), 0x803)  # one image short
    write_idx(tmp_path / labels, np.zeros(count), 0x801)
    with pytest.raises(ValueError, match="truncated or corrupt"):
        data.fashion_mnist("test", data_dir=tmp_path)
    (tmp_path / labels).write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(ValueError, match="corrupt"):
        data._read_idx(tmp_path / labels, 0x801, count)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        data.load_dataset("cifar")
