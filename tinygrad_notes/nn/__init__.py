"""Building models: modules, layers, containers, initializers and losses."""

from . import init
from .activation import ReLU, Sigmoid, Tanh
from .container import Residual, Sequential
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .linear import Linear
from .losses import CrossEntropyLoss, HingeLoss, MSELoss, PerceptronLoss, hinge_loss, perceptron_loss
from .module import Module
from .norm import BatchNorm1d, BatchNorm2d
from .parameter import Parameter
from .shape import Dropout, Flatten

__all__ = [
    "Module", "Parameter", "Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d", "ReLU", "Sigmoid", "Tanh",
    "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "Sequential", "Residual", "init", "MSELoss",
    "CrossEntropyLoss", "PerceptronLoss", "HingeLoss", "perceptron_loss", "hinge_loss",
]
