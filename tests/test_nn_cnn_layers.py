"""Conv2d, BatchNorm1d/2d and the pooling modules: shapes, train/eval behaviour, running
statistics (eq. 3.24), gradients, and the errors."""

import numpy as np
import pytest

from tinygrad_notes import Value, gradcheck, nn
from tinygrad_notes.serialization import load, save


def images(n=4, c=3, h=8, w=8, seed=0):
    return Value(np.random.default_rng(seed).standard_normal((n, c, h, w)).astype(np.float32), requires_grad=False)


def test_conv2d_shapes_and_parameters():
    conv = nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=1, seed=0)
    assert conv.weight.shape == (5, 3, 3, 2) and conv.bias.shape == (5,)
    assert conv(images()).shape == (4, 5, 4, 9)
    assert nn.Conv2d(3, 5, 3, bias=False, seed=0).bias is None


def test_conv2d_matches_a_direct_sum_of_eq_3_9():
    conv = nn.Conv2d(2, 3, 3, seed=0)
    x = images(2, 2, 5, 6)
    y = conv(x).data
    w, b, a = conv.weight.data, conv.bias.data, x.data
    expected = np.zeros((2, 3, 3, 4), dtype=np.float32)
    for i in range(3):
        for j in range(4):
            expected[:, :, i, j] = np.einsum("nchw,kchw->nk", a[:, :, i:i + 3, j:j + 3], w) + b
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_conv2d_gradients():
    conv = nn.Conv2d(2, 2, 3, padding=1, seed=0)
    w, b = conv.weight.data.astype(np.float64), conv.bias.data.astype(np.float64)
    x = np.random.default_rng(1).standard_normal((2, 2, 4, 4))
    from tinygrad_notes import conv2d

    gradcheck(lambda xv, wv, bv: conv2d(xv, wv, bv, padding=1), [x, w, b])


def test_conv2d_refuses_a_channel_mismatch():
    with pytest.raises(ValueError, match="channel mismatch"):
        nn.Conv2d(4, 2, 3, seed=0)(images(c=3))


def test_batchnorm2d_train_normalizes_and_updates_running_statistics():
    bn = nn.BatchNorm2d(3, momentum=0.5)
    x = images(8, 3, 4, 4)
    y = bn(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    m = 8 * 4 * 4
    mean, var = x.data.mean(axis=(0, 2, 3)), x.data.var(axis=(0, 2, 3))
    np.testing.assert_allclose(bn.running_mean, 0.5 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var, 0.5 * 1.0 + 0.5 * var * m / (m - 1), rtol=1e-5)  # eq. 3.24


def test_batchnorm_eval_uses_the_running_statistics_and_leaves_them():
    bn = nn.BatchNorm1d(2)
    bn.running_mean[:] = [1.0, -1.0]
    bn.running_var[:] = [4.0, 0.25]
    bn.gamma.data[:] = [2.0, 1.0]
    bn.beta.data[:] = [0.0, 3.0]
    bn.eval()
    x = Value(np.array([[3.0, 0.0], [1.0, -1.0]], dtype=np.float32), requires_grad=False)
    y = bn(x).data  # eq. 3.24: gamma (x - mu) / sqrt(sigma^2 + eps) + beta
    np.testing.assert_allclose(y, [[2 * 2 / np.sqrt(4 + 1e-5), 3 + 1 / np.sqrt(0.25 + 1e-5)],
                                   [0.0, 3.0]], rtol=1e-5)
    np.testing.assert_array_equal(bn.running_mean, [1.0, -1.0])


def test_batchnorm_in_training_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match="more than one value per channel"):
        nn.BatchNorm1d(3)(Value(np.ones((1, 3), dtype=np.float32)))
    bn = nn.BatchNorm1d(3).eval()
    assert bn(Value(np.ones((1, 3), dtype=np.float32))).shape == (1, 3), "eval mode is fine with one sample"


def test_batchnorm_checks_its_input_shape():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) expects input of shape \(N, C, H, W\)"):
        nn.BatchNorm2d(3)(Value(np.ones((4, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match="C=5"):
        nn.BatchNorm1d(5)(Value(np.ones((4, 3), dtype=np.float32)))


def test_batchnorm_buffers_are_saved_and_loaded(tmp_path):
    a = nn.Sequential(nn.Conv2d(3, 4, 3, seed=0), nn.BatchNorm2d(4))
    a(images())
    path = save(a, tmp_path / "bn.npz")
    b = nn.Sequential(nn.Conv2d(3, 4, 3, seed=9), nn.BatchNorm2d(4))
    load(b, path)
    np.testing.assert_array_equal(b[1].running_mean, a[1].running_mean)
    np.testing.assert_array_equal(b[1].running_var, a[1].running_var)
    assert "1.running_var" in a.state_dict()


def test_pooling_modules():
    x = Value(np.arange(16.0, dtype=np.float32).reshape(1, 1, 4, 4), requires_grad=False)
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).data[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    assert nn.MaxPool2d(3, stride=1, padding=1)(x).shape == (1, 1, 4, 4)
    assert "kernel_size=2" in repr(nn.MaxPool2d(2))


def test_a_cnn_trains():
    from tinygrad_notes import cross_entropy, optim

    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    y = (x[:, 0, :4].mean(axis=(1, 2)) > x[:, 0, 4:].mean(axis=(1, 2))).astype(np.int64)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64, 2, seed=1))
    opt = optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(40):
        loss = cross_entropy(model(Value(x, requires_grad=False)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
