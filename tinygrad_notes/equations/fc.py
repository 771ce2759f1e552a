"""Backpropagation through fully connected layers (notes 3.1 and 3.2.1), in numpy.

Notation of the notes: layer ``l`` has weights ``W[l]`` of shape (n_l, n_{l-1}) (w^l_jk
connects neuron k of layer l-1 to neuron j of layer l) and biases ``b[l]`` of shape (n_l,).
A batch holds one sample per row, so a^l is (N, n_l) and eq. 3.2 reads
z^l = a^{l-1} W^T + b. The notes derive the rules for one sample; the cost of a batch is
one number, every delta is per sample, and the weight and bias gradients sum over the
samples (each sample's BP3/BP4 term adds up).

Element forms loop over the indices exactly as the equations are written; matrix forms
are the vectorized equations. Both exist so that each can be checked against the other.
"""

from __future__ import annotations

import numpy as np

from .activations import loss, loss_gradient, sigma, sigma_prime


def fc_forward(a0, weights, biases, activation: str, output_activation: str | None = None):
    """Eq. 3.2 (the vector form of eq. 3.1) on a batch: returns ``(zs, activations)`` with ``activations[0] = a0``.

    ``output_activation`` (default: ``activation``) is sigma of the last layer.
    """
    output_activation = output_activation or activation
    zs, acts = [], [np.asarray(a0, dtype=np.float64)]
    for l, (w, b) in enumerate(zip(weights, biases)):
        z = acts[-1] @ w.T + b
        zs.append(z)
        acts.append(sigma(output_activation if l == len(weights) - 1 else activation, z))
    return zs, acts


def fc_forward_element(a0, weights, biases, activation: str, output_activation: str | None = None):
    """Eq. 3.1 one neuron at a time: z^l_j = sum_k w^l_jk a^{l-1}_k + b^l_j, a^l_j = sigma(z^l_j).

    Returns ``(zs, activations)`` like :func:`fc_forward`.
    """
    output_activation = output_activation or activation
    zs, acts = [], [np.asarray(a0, dtype=np.float64)]
    for l, (w, b) in enumerate(zip(weights, biases)):
        prev = acts[-1]
        z = np.zeros((prev.shape[0], w.shape[0]))
        for n in range(prev.shape[0]):
            for j in range(w.shape[0]):
                total = 0.0
                for k in range(w.shape[1]):
                    total += w[j, k] * prev[n, k]
                z[n, j] = total + b[j]
        zs.append(z)
        acts.append(sigma(output_activation if l == len(weights) - 1 else activation, z))
    return zs, acts


def bp1_element(grad_a, z, activation: str):
    """BP1: delta^L_j = dL/da^L_j * sigma'(z^L_j), one element at a time."""
    sp = sigma_prime(activation, z)
    delta = np.empty_like(z)
    for n in range(z.shape[0]):
        for j in range(z.shape[1]):
            delta[n, j] = grad_a[n, j] * sp[n, j]
    return delta


def bp1_matrix(grad_a, z, activation: str):
    """Eq. 3.4: delta^L = nabla_a L (x) sigma'(z^L) (Hadamard product)."""
    return grad_a * sigma_prime(activation, z)


def bp2_element(delta_next, w_next, z, activation: str):
    """BP2: delta^l_j = sum_k delta^{l+1}_k w^{l+1}_kj sigma'(z^l_j), one element at a time."""
    sp = sigma_prime(activation, z)
    delta = np.zeros_like(z)
    for n in range(z.shape[0]):
        for j in range(z.shape[1]):
            total = 0.0
            for k in range(delta_next.shape[1]):
                total += delta_next[n, k] * w_next[k, j]
            delta[n, j] = total * sp[n, j]
    return delta


def bp2_matrix(delta_next, w_next, z, activation: str):
    """Eq. 3.5: delta^l = ((W^{l+1})^T delta^{l+1}) (x) sigma'(z^l); with samples as rows
    (W^T delta)^T = delta W."""
    return (delta_next @ w_next) * sigma_prime(activation, z)


def bp3_element(delta, a_prev):
    """BP3: dL/dw^l_jk = delta^l_j a^{l-1}_k, summed over the samples of the batch."""
    grad = np.zeros((delta.shape[1], a_prev.shape[1]))
    for n in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            for k in range(a_prev.shape[1]):
                grad[j, k] += delta[n, j] * a_prev[n, k]
    return grad


def bp3_matrix(delta, a_prev):
    """Eq. 3.6: dL/dW^l = delta^l (a^{l-1})^T, i.e. sum_n delta_n a_n^T = delta^T A."""
    return delta.T @ a_prev


def bp4_element(delta):
    """BP4: dL/db^l_j = delta^l_j, summed over the samples of the batch."""
    grad = np.zeros(delta.shape[1])
    for n in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            grad[j] += delta[n, j]
    return grad


def bp4_matrix(delta):
    """Eq. 3.7: dL/db^l = delta^l, summed over the samples."""
    return delta.sum(axis=0)


def fc_backprop(a0, weights, biases, target, activation: str, loss_name: str,
                output_activation: str | None = None, form: str = "matrix") -> dict:
    """FC-BP (``form="element"``) or eq. 3.8 (``form="matrix"``): a forward pass (eq. 3.2)
    and the whole backward pass of an L-layer network on a batch.

    Returns ``loss``, ``zs``, ``activations``, ``deltas`` (dL/dz^l per layer) and
    ``grad_w``, ``grad_b`` (per layer). ``target`` is (N, n_L): values for ``mse``,
    one-hot rows or probabilities for ``cross_entropy``.
    """
    if form not in ("matrix", "element"):
        raise ValueError(f"form must be 'matrix' or 'element', got {form!r}")
    output_activation = output_activation or activation
    element = form == "element"
    zs, acts = fc_forward(a0, weights, biases, activation, output_activation)
    count = len(weights)
    deltas = [None] * count
    grad_a = loss_gradient(loss_name, acts[-1], target)
    deltas[-1] = (bp1_element if element else bp1_matrix)(grad_a, zs[-1], output_activation)
    for l in range(count - 2, -1, -1):
        deltas[l] = (bp2_element if element else bp2_matrix)(deltas[l + 1], weights[l + 1], zs[l], activation)
    grad_w = [(bp3_element if element else bp3_matrix)(deltas[l], acts[l]) for l in range(count)]
    grad_b = [(bp4_element if element else bp4_matrix)(deltas[l]) for l in range(count)]
    return dict(loss=loss(loss_name, acts[-1], target), zs=zs, activations=acts, deltas=deltas,
                grad_w=grad_w, grad_b=grad_b)
