"""Module: parameter discovery and names, modes, zero_grad, state dict round trip and errors."""

import numpy as np
import pytest

from tinygrad_notes import Value, nn


def small_model():
    return nn.Sequential(nn.Linear(3, 4, seed=0), nn.Tanh(), nn.Dropout(0.5, seed=0), nn.Linear(4, 2, seed=1))


def test_named_parameters_follow_the_tree():
    names = [n for n, _ in small_model().named_parameters()]
    assert names == ["0.weight", "0.bias", "3.weight", "3.bias"]


def test_a_shared_parameter_is_listed_once():
    layer = nn.Linear(2, 2, seed=0)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(model.parameters()) == 2


def test_name_parameters_sets_module_paths():
    model = small_model().name_parameters()
    assert [p.name for p in model.parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]


def test_train_and_eval_propagate():
    model = small_model()
    model.eval()
    assert all(not m.training for _, m in model.named_modules())
    model.train()
    assert all(m.training for _, m in model.named_modules())


def test_zero_grad():
    model = small_model()
    x = Value(np.ones((5, 3), dtype=np.float32), requires_grad=False)
    model(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_state_dict_round_trip_is_a_copy():
    a, b = small_model(), nn.Sequential(nn.Linear(3, 4, seed=5), nn.Tanh(), nn.Dropout(0.5), nn.Linear(4, 2, seed=6))
    state = a.state_dict()
    b.load_state_dict(state)
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    state["0.weight"][...] = 99  # the state dict holds copies
    assert not (a[0].weight.data == 99).any()


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    model = small_model()
    before = model.state_dict()
    bad = dict(before)
    del bad["0.bias"]
    bad["extra"] = np.zeros(1)
    bad["3.weight"] = np.zeros((5, 5))
    bad["0.weight"] = np.full((4, 3), 7.0)
    with pytest.raises(ValueError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert "missing keys: 0.bias" in message
    assert "unexpected keys: extra" in message
    assert "3.weight: checkpoint (5, 5) vs model (2, 4)" in message
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="does not define forward"):
        nn.Module()(1)


def test_repr_shows_the_tree():
    text = repr(small_model())
    assert "(0): Linear(3, 4, bias=True)" in text and "(2): Dropout(p=0.5)" in text
