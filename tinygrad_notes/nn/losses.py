"""Loss modules: MSE, cross-entropy, and the perceptron loss of eq. 2.5 with its margin
version, the hinge loss."""

from __future__ import annotations

import numpy as np

from ..functional import cross_entropy, mse
from ..value import Value
from .module import Module


def _labels_pm1(y, scores) -> np.ndarray:
    y = np.asarray(y.data if isinstance(y, Value) else y, dtype=scores.dtype)
    if y.shape != scores.shape:
        raise ValueError(f"labels of shape {y.shape} do not match scores of shape {scores.shape}")
    if not np.isin(y, (-1.0, 1.0)).all():
        raise ValueError("perceptron and hinge losses need labels in {-1, +1}")
    return y


def perceptron_loss(scores, y):
    """eq. 2.5: L = -sum over misclassified i of y_i (w.x_i + b) = sum_i max(0, -y_i s_i).

    ``scores`` are w.x + b, ``y`` the labels in {-1, +1}. Its gradient is eq. 2.7.

    >>> from tinygrad_notes import Value
    >>> scores = Value([-2.0, -1.0, 0.5])
    >>> loss = perceptron_loss(scores, [-1.0, 1.0, -1.0])  # the last two are misclassified
    >>> loss.backward()
    >>> loss.item(), scores.grad.tolist()  # eq. 2.7: -y_i for the misclassified points, 0 elsewhere
    (1.5, [0.0, -1.0, 1.0])
    """
    y = _labels_pm1(y, scores)
    return (scores * -y).relu().sum()


def hinge_loss(scores, y, margin: float = 1.0):
    """mean_i max(0, margin - y_i s_i): the perceptron loss asking for a margin.

    >>> from tinygrad_notes import Value
    >>> scores, y = Value([2.0, 0.5]), [1.0, 1.0]  # both correct, the second inside the margin
    >>> perceptron_loss(scores, y).item(), hinge_loss(scores, y).item()
    (0.0, 0.25)
    """
    y = _labels_pm1(y, scores)
    return (margin - scores * y).relu().mean()


class MSELoss(Module):
    """mean((prediction - target)^2).

    >>> from tinygrad_notes import Value, nn
    >>> nn.MSELoss()(Value([1.0, 2.0]), Value([1.0, 4.0])).item()
    2.0
    """

    def forward(self, prediction, target):
        """The loss value."""
        return mse(prediction, target)


class CrossEntropyLoss(Module):
    """Mean cross-entropy of logits against class indices or probabilities.

    >>> import numpy as np
    >>> from tinygrad_notes import Value, nn
    >>> logits = Value(np.zeros((2, 4)))  # uniform over 4 classes: the loss is log 4
    >>> round(nn.CrossEntropyLoss()(logits, np.array([0, 3])).item(), 4)
    1.3863
    """

    def forward(self, logits, target):
        """The loss value."""
        return cross_entropy(logits, target)


class PerceptronLoss(Module):
    """The perceptron loss of eq. 2.5 (sum over misclassified points).

    >>> from tinygrad_notes import Value, nn
    >>> nn.PerceptronLoss()(Value([2.0, -1.0, 0.5]), [1.0, 1.0, -1.0]).item()
    1.5
    """

    def forward(self, scores, y):
        """The loss value."""
        return perceptron_loss(scores, y)


class HingeLoss(Module):
    """mean max(0, margin - y s).

    >>> from tinygrad_notes import Value, nn
    >>> round(nn.HingeLoss()(Value([2.0, 0.5, -1.0]), [1.0, 1.0, 1.0]).item(), 4)  # (0 + 0.5 + 2) / 3
    0.8333
    >>> nn.HingeLoss(margin=0.5)(Value([2.0, 0.5, -1.0]), [1.0, 1.0, 1.0]).item()  # (0 + 0 + 1.5) / 3
    0.5
    """

    def __init__(self, margin: float = 1.0):
        super().__init__()
        self.margin = margin

    def forward(self, scores, y):
        """The loss value."""
        return hinge_loss(scores, y, self.margin)
