"""Layers that need no convolution kernel: Linear, activations, Residual, Flatten, Dropout,
initializers and losses."""

import numpy as np
import pytest

import tinygrad_notes as tn
from tinygrad_notes import Value, gradcheck, nn


def test_linear_is_z_equals_wa_plus_b():
    layer = nn.Linear(3, 2, seed=0)
    a = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    z = layer(Value(a, requires_grad=False))
    np.testing.assert_allclose(z.data, a @ layer.weight.data.T + layer.bias.data, rtol=1e-6)
    assert layer.weight.shape == (2, 3), "W has shape (out, in) as in eq. 3.2"


def test_linear_gradients_pass_gradcheck():
    layer = nn.Linear(3, 2, seed=0)
    w, b = layer.weight.data.astype(np.float64), layer.bias.data.astype(np.float64)
    x = np.random.default_rng(2).standard_normal((4, 3))
    gradcheck(lambda xv, wv, bv: (xv @ wv.T + bv).tanh(), [x, w, b])


def test_linear_rejects_the_wrong_width():
    with pytest.raises(ValueError, match=r"Linear\(3, 2\): input shape \(4, 5\) must end in 3"):
        nn.Linear(3, 2, seed=0)(Value(np.ones((4, 5))))


def test_linear_init_is_seeded():
    assert np.array_equal(nn.Linear(4, 4, seed=3).weight.data, nn.Linear(4, 4, seed=3).weight.data)
    assert not np.array_equal(nn.Linear(4, 4, seed=3).weight.data, nn.Linear(4, 4, seed=4).weight.data)


@pytest.mark.parametrize("name,std", [("xavier_normal", np.sqrt(2 / (200 + 100))), ("he_normal", np.sqrt(2 / 100))])
def test_normal_initializers_have_their_variance(name, std):
    w = nn.init.initialize((200, 100), name, seed=0)
    assert w.dtype == np.float32
    assert abs(w.std() - std) < 0.02 * std * 5


@pytest.mark.parametrize("name,bound", [("xavier_uniform", np.sqrt(6 / 300)), ("he_uniform", np.sqrt(6 / 100)),
                                        ("fan_in_uniform", 1 / np.sqrt(100))])
def test_uniform_initializers_have_their_bounds(name, bound):
    w = nn.init.initialize((200, 100), name, seed=0)
    assert w.max() <= bound and w.min() >= -bound and w.max() > 0.95 * bound


def test_unknown_initializer():
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        nn.init.initialize((2, 2), "glorot")


def test_activation_modules():
    x = Value(np.array([-1.0, 0.5]))
    np.testing.assert_allclose(nn.ReLU()(x).data, [0.0, 0.5])
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh([-1.0, 0.5]))
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp([1.0, -0.5])))


def test_residual_adds_the_input_and_checks_shapes():
    body = nn.Linear(3, 3, seed=0)
    x = Value(np.ones((2, 3), dtype=np.float32), requires_grad=False)
    np.testing.assert_allclose(nn.Residual(body)(x).data, body(x).data + 1.0)
    with pytest.raises(ValueError, match="pass projection="):
        nn.Residual(nn.Linear(3, 4, seed=0))(x)
    projected = nn.Residual(nn.Linear(3, 4, seed=0), projection=nn.Linear(3, 4, seed=1))
    assert projected(x).shape == (2, 4)


def test_flatten_keeps_the_batch_axis():
    assert nn.Flatten()(tn.zeros(2, 3, 4, 5)).shape == (2, 60)


def test_dropout_train_and_eval():
    drop = nn.Dropout(0.25, seed=0)
    x = Value(np.ones((200, 50), dtype=np.float32))
    y = drop(x).data
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="0 <= p < 1"):
        nn.Dropout(1.0)


def test_dropout_gradient_is_the_mask():
    drop = nn.Dropout(0.5, seed=1)
    x = Value(np.ones(100))
    y = drop(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)


def test_perceptron_loss_is_eq_2_5():
    scores = Value(np.array([2.0, -1.0, 0.5, -3.0]))
    y = np.array([1.0, 1.0, -1.0, -1.0])  # the 2nd and 3rd are misclassified
    loss = nn.perceptron_loss(scores, y)
    assert loss.item() == pytest.approx(-(1.0 * -1.0) - (-1.0 * 0.5))
    loss.backward()
    np.testing.assert_array_equal(scores.grad, [0.0, -1.0, 1.0, 0.0])  # -y_i on M (eq. 2.7)


def test_hinge_loss_and_label_check():
    scores = Value(np.array([2.0, 0.5]))
    assert nn.hinge_loss(scores, np.array([1.0, 1.0])).item() == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"\{-1, \+1\}"):
        nn.hinge_loss(scores, np.array([0.0, 1.0]))


def test_loss_modules():
    p, t = Value(np.array([[1.0, 2.0]])), np.array([[1.0, 0.0]])
    assert nn.MSELoss()(p, t).item() == 2.0
    assert nn.CrossEntropyLoss()(p, np.array([1])).item() == pytest.approx(np.log(1 + np.exp(-1.0)))
