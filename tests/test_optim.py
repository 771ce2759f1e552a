"""Optimizers and schedules against hand-computed updates."""

import math

import numpy as np
import pytest

from tinygrad_notes import optim
from tinygrad_notes.nn import Parameter


def param(values, grad):
    p = Parameter(np.array(values, dtype=np.float64))
    p.grad = np.array(grad, dtype=np.float64)
    return p


def test_sgd_is_eq_2_15():
    p = param([1.0, -2.0], [0.5, 0.25])
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [1.0 - 0.05, -2.0 - 0.025])


def test_sgd_momentum_and_weight_decay():
    p = param([1.0], [1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step()  # v = g + wd*w = 1.5; w = 1 - 0.15
    np.testing.assert_allclose(p.data, [0.85])
    p.grad = np.array([1.0])
    opt.step()  # v = 0.9*1.5 + (1 + 0.5*0.85) = 2.775
    np.testing.assert_allclose(p.data, [0.85 - 0.2775])


def test_adam_first_step_moves_by_lr_times_sign():
    p = param([1.0, 1.0], [3.0, -0.01])
    optim.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, [0.99, 1.01], rtol=1e-6)


def test_adam_minimizes_a_quadratic():
    p = param([5.0, -3.0], [0.0, 0.0])
    opt = optim.Adam([p], lr=0.1)
    for _ in range(500):
        p.grad = 2 * p.data
        opt.step()
    assert np.abs(p.data).max() < 1e-2


def test_parameters_without_grad_are_skipped_and_nan_is_refused():
    p, q = param([1.0], [1.0]), Parameter(np.array([2.0]))
    optim.SGD([p, q], lr=1.0).step()
    assert q.data[0] == 2.0
    p.grad = np.array([np.nan])
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        optim.SGD([p], lr=1.0).step()


def test_bad_arguments():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr > 0"):
        optim.Adam([param([1.0], [1.0])], lr=0)


def test_step_and_cosine_schedules():
    opt = optim.SGD([param([1.0], [0.0])], lr=1.0)
    step = optim.StepLR(opt, step_size=2, gamma=0.5)
    assert [step.step() for _ in range(4)] == [1.0, 0.5, 0.5, 0.25]
    opt.lr = 1.0
    cosine = optim.CosineLR(opt, total=4, min_lr=0.0)
    lrs = [cosine.step() for _ in range(5)]
    assert lrs[1] == pytest.approx(0.5) and lrs[3] == pytest.approx(0.0) and lrs[4] == pytest.approx(0.0)
    assert lrs[0] == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
