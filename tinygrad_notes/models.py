"""The models that ``tinygrad-notes train`` and ``graph`` build: an MLP, a LeNet-style
CNN and a small residual network, for 2-D point sets or 1x28x28 images."""

from __future__ import annotations

from . import nn


def mlp(in_shape: tuple, num_classes: int, bn: bool = False, hidden: int = 64, seed: int = 0) -> nn.Module:
    """Linear-ReLU-Linear-ReLU-Linear (with batch norm after each hidden Linear when ``bn``)."""
    width = 1
    for d in in_shape:
        width *= d
    layers = [nn.Flatten()] if len(in_shape) > 1 else []
    for i, (a, b) in enumerate([(width, hidden), (hidden, hidden)]):
        layers.append(nn.Linear(a, b, seed=seed + i))
        if bn:
            layers.append(nn.BatchNorm1d(b))
        layers.append(nn.ReLU())
    layers.append(nn.Linear(hidden, num_classes, seed=seed + 2))
    return nn.Sequential(*layers)


def cnn(in_shape: tuple, num_classes: int, bn: bool = True, seed: int = 0) -> nn.Module:
    """LeNet-style: two 5x5 conv blocks (conv, batch norm, ReLU, 2x2 max pool), then two Linear layers."""
    _need_images(in_shape, "cnn")
    c, h, w = in_shape

    def block(cin, cout, s):
        layers = [nn.Conv2d(cin, cout, 5, padding=2, bias=not bn, seed=s)]
        if bn:
            layers.append(nn.BatchNorm2d(cout))
        return layers + [nn.ReLU(), nn.MaxPool2d(2)]

    features = (h // 4) * (w // 4) * 32
    head = [nn.Flatten(), nn.Linear(features, 128, seed=seed + 2)]
    if bn:
        head.append(nn.BatchNorm1d(128))
    head += [nn.ReLU(), nn.Linear(128, num_classes, seed=seed + 3)]
    return nn.Sequential(*block(c, 16, seed), *block(16, 32, seed + 1), *head)


def _conv_bn(cin, cout, bn, seed):
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=not bn, seed=seed)]
    return layers + ([nn.BatchNorm2d(cout)] if bn else [])


def resnet(in_shape: tuple, num_classes: int, bn: bool = True, blocks: int = 2, seed: int = 0) -> nn.Module:
    """A small residual network (section 3.4): a stem, ``blocks`` residual blocks y = relu(F(x) + x), a head.

    For 2-D points the blocks are Linear-ReLU-Linear; for images they are conv-bn-relu-conv-bn.
    """
    if len(in_shape) == 1:
        width = 64
        layers = [nn.Linear(in_shape[0], width, seed=seed), nn.ReLU()]
        for i in range(blocks):
            body = nn.Sequential(nn.Linear(width, width, seed=seed + 10 + 2 * i), nn.ReLU(),
                                 nn.Linear(width, width, seed=seed + 11 + 2 * i))
            layers += [nn.Residual(body), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(width, num_classes, seed=seed + 1))
    _need_images(in_shape, "resnet")
    c, h, w = in_shape
    width = 16
    layers = [*_conv_bn(c, width, bn, seed), nn.ReLU(), nn.MaxPool2d(2)]
    for i in range(blocks):
        body = nn.Sequential(*_conv_bn(width, width, bn, seed + 10 + 2 * i), nn.ReLU(),
                             *_conv_bn(width, width, bn, seed + 11 + 2 * i))
        layers += [nn.Residual(body), nn.ReLU()]
    layers += [nn.AvgPool2d(2), nn.Flatten(), nn.Linear(width * (h // 4) * (w // 4), num_classes, seed=seed + 1)]
    return nn.Sequential(*layers)


def _need_images(in_shape, name):
    if len(in_shape) != 3:
        raise ValueError(f"the {name} model needs images (C, H, W), e.g. --dataset fashion-mnist; "
                         f"this dataset has inputs of shape {in_shape}")


MODELS = {"mlp": mlp, "cnn": cnn, "resnet": resnet}


def build(name: str, in_shape: tuple, num_classes: int, bn: bool = True, seed: int = 0) -> nn.Module:
    """Build the model called ``name`` for inputs of ``in_shape`` and name its parameters by path."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](tuple(in_shape), num_classes, bn=bn, seed=seed).name_parameters()
