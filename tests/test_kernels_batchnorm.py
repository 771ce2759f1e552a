"""The batchnorm kernels against Algorithm 1 and eqs. 3.22-3.24 written term by term."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_kernels as ref
from tinygrad_notes.kernels import batchnorm as bn_module
from tinygrad_notes.kernels import batchnorm_backward, batchnorm_forward_infer, batchnorm_forward_train
from tinygrad_notes.kernels import batchnorm_items as items_module

#: The two ways the (N, C, M) training kernels go through x: by chunks of items (where x
#: and dy fit in the L3, not on Intel) or by channel groups; every test of their numbers
#: runs both.
PATHS = {"items": True, "groups": False}


def _take(path):
    """Force the (N, C, M) training kernels onto ``path`` (a key of PATHS), as a context."""
    return mock.patch.object(bn_module, "by_items", lambda x, items=PATHS[path]: items)

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}
#: float32's unit roundoff.
U32 = 2.0 ** -24


def assert_statistics_close(x, mean, var):
    """``mean`` and ``var`` (biased) of ``x`` (N, C, M) against float64 sums of the data.

    float64 data: to 1e-12 and 1e-9. float32 data, whose statistics are float32 sums
    (see the kernels' module docstring), within their worst-case error: each
    ``v = x - pivot`` (pivot: the channel's first value) rounds once (relative error at
    most u), its square once more, and a block of at most ``k = min(M, BLOCK)`` values is
    summed with at most k - 1 roundings whatever the order; the float64 sums of blocks
    add nothing that shows. With ``spread = max |x - pivot|``: ``|s/m - D| <= k u spread``
    for the shifted mean D, and ``|var - V| <= (k + 2) u spread^2 + 2 k u spread^2``.
    """
    x64 = x.astype(np.float64)
    rmean, rvar = x64.mean(axis=(0, 2)), x64.var(axis=(0, 2))
    if x.dtype == np.float64:
        np.testing.assert_allclose(mean, rmean, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(var, rvar, rtol=1e-9, atol=1e-9)
        return
    k = min(x.shape[2], bn_module.BLOCK)
    spread = np.abs(x64 - x64[:1, :, :1]).max(axis=(0, 2))
    eps64 = np.finfo(np.float64).eps
    assert np.all(np.abs(mean - rmean) <= k * U32 * spread + 4 * eps64 * np.abs(rmean))
    assert np.all(np.abs(var - rvar) <= (3 * k + 3) * U32 * spread ** 2)


@st.composite
def bn_cases(draw):
    N, C, M = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.sampled_from([1, 1, 2, 5, 12]))
    if N * M == 1:
        N = 2
    return dict(shape=(N, C, M), dtype=draw(st.sampled_from([np.float32, np.float64])),
                seed=draw(st.integers(0, 99)), shift=draw(st.sampled_from([0.0, 5.0, -300.0])))


def _data(case):
    rng = np.random.default_rng(case["seed"])
    x = (rng.standard_normal(case["shape"]) * 2 + case["shift"]).astype(case["dtype"])
    C = case["shape"][1]
    return x, rng.standard_normal(C) + 1.5, rng.standard_normal(C), rng.standard_normal(case["shape"]).astype(case["dtype"])


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=60, deadline=None)
@given(case=bn_cases())
def test_training_forward_and_backward_match_the_reference(path, case):
    x, gamma, beta, dy = _data(case)
    with _take(path):
        y, mean, var, invstd = batchnorm_forward_train(x, gamma, beta, 1e-5)
        dx, dgamma, dbeta = batchnorm_backward(dy, x, gamma, mean, invstd)
    ry, _, _ = ref.batch_norm_train(x, gamma, beta, 1e-5)
    tol = TOL[case["dtype"]]
    assert y.dtype == x.dtype
    np.testing.assert_allclose(y, ry, **tol)
    assert_statistics_close(x, mean, var)
    np.testing.assert_allclose(invstd, 1 / np.sqrt(var + 1e-5), rtol=1e-14)
    rdx, rdgamma, rdbeta = ref.batch_norm_train_backward(dy, x, gamma, 1e-5)
    np.testing.assert_allclose(dx, rdx, **tol)
    np.testing.assert_allclose(dgamma, rdgamma, **tol)
    np.testing.assert_allclose(dbeta, rdbeta, **tol)


@settings(max_examples=30, deadline=None)
@given(bn_cases())
def test_inference_forward_and_backward_match_eq_3_24(case):
    x, gamma, beta, dy = _data(case)
    C = x.shape[1]
    rng = np.random.default_rng(case["seed"] + 1)
    mean, var = rng.standard_normal(C), rng.random(C) + 0.5
    y, invstd = batchnorm_forward_infer(x, gamma, beta, mean, var, 1e-5)
    np.testing.assert_allclose(y, ref.batch_norm_infer(x, gamma, beta, mean, var, 1e-5), **TOL[case["dtype"]])
    dx, dgamma, dbeta = batchnorm_backward(dy, x, gamma, mean, invstd, training=False)
    scale = (gamma / np.sqrt(var + 1e-5))[None, :, None]
    xhat = (x - mean[None, :, None]) / np.sqrt(var + 1e-5)[None, :, None]
    np.testing.assert_allclose(dx, dy * scale, **TOL[case["dtype"]])
    np.testing.assert_allclose(dgamma, (dy * xhat).sum(axis=(0, 2)), **TOL[case["dtype"]])
    np.testing.assert_allclose(dbeta, dy.sum(axis=(0, 2)), **TOL[case["dtype"]])


@pytest.mark.parametrize("stat_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 3, 7), (6, 4, 1)])
def test_training_forward_updates_the_running_statistics(shape, stat_dtype):
    """eq. 3.24 / eq. 1.17: running = (1 - momentum) running + momentum batch, the batch
    variance unbiased by m / (m - 1); gamma and beta given in the data's dtype. (The
    batch statistics themselves are checked against the data in
    test_training_forward_and_backward_match_the_reference.)"""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
    C, m = shape[1], shape[0] * shape[2]
    before_mean, before_var = rng.standard_normal(C), rng.random(C) + 0.5
    running_mean, running_var = before_mean.astype(stat_dtype), before_var.astype(stat_dtype)
    _, batch_mean, batch_var, _ = batchnorm_forward_train(x, np.ones(C, np.float32), np.zeros(C, np.float32), 1e-5,
                                                          running_mean, running_var, 0.3)
    assert_statistics_close(x, batch_mean, batch_var)
    batch_var = batch_var * m / (m - 1)
    tol = dict(rtol=1e-6, atol=1e-7) if stat_dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    assert running_mean.dtype == stat_dtype and running_var.dtype == stat_dtype
    np.testing.assert_allclose(running_mean, 0.7 * before_mean.astype(stat_dtype) + 0.3 * batch_mean, **tol)
    np.testing.assert_allclose(running_var, 0.7 * before_var.astype(stat_dtype) + 0.3 * batch_var, **tol)


def test_running_variance_needs_two_values_per_channel():
    with pytest.raises(ValueError, match=r"\(1, 2, 1\).*at least two"):
        batchnorm_forward_train(np.ones((1, 2, 1)), np.ones(2), np.zeros(2), 1e-5, running_var=np.ones(2))


def test_large_mean_keeps_the_variance():
    """The sums are shifted by the channel's first value: a mean 10^4 times the standard
    deviation does not cancel the variance away in float32 data (unshifted float32 sums
    of squares would be off by about m u 10^8, thousands of times the variance)."""
    rng = np.random.default_rng(0)
    x = (1e4 + rng.standard_normal((64, 3, 50))).astype(np.float32)
    _, mean, var, _ = batchnorm_forward_train(x, np.ones(3), np.zeros(3), 0.0)
    assert_statistics_close(x, mean, var)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_longer_than_a_block(monkeypatch, dtype):
    """Rows of more than BLOCK values are summed block by block, every value once, with
    the same numbers whatever the channel groups, y and dx streamed or not. float64
    data match the reference; float32 data's sums are within their worst-case error (eq. 3.22's
    ``dbeta = sum dy`` and ``sum dy (x - mean)``: k - 1 roundings in a block of k
    values, one more for each product and difference) of float64 sums taken with the
    kernel's own statistics."""
    M = 2 * bn_module.BLOCK + 37
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((2, 3, M)) * 2 + np.array([0.0, 5.0, -300.0])[:, None]).astype(dtype)
    x[:, :, bn_module.BLOCK:2 * bn_module.BLOCK] += dtype(1)  # a lost or repeated block moves the mean
    dy = rng.standard_normal(x.shape).astype(dtype)
    gamma, beta = rng.standard_normal(3) + 1.5, rng.standard_normal(3)
    for stream in (False, True):
        one = _forward_and_backward(monkeypatch, x, dy, gamma, beta, 1, stream)
        for a, b in zip(_forward_and_backward(monkeypatch, x, dy, gamma, beta, 2, stream), one):
            np.testing.assert_array_equal(a, b)
        _check_long_rows(x, dy, gamma, beta, *one)
    with _take("items"):
        y, mean, var, invstd = batchnorm_forward_train(x, gamma, beta, 1e-5)
        _check_long_rows(x, dy, gamma, beta, y, mean, var, invstd, *batchnorm_backward(dy, x, gamma, mean, invstd))


def _check_long_rows(x, dy, gamma, beta, y, mean, var, invstd, dx, dgamma, dbeta):
    assert_statistics_close(x, mean, var)
    if x.dtype == np.float64:
        ry, _, _ = ref.batch_norm_train(x, gamma, beta, 1e-5)
        rdx, rdgamma, rdbeta = ref.batch_norm_train_backward(dy, x, gamma, 1e-5)
        for a, b in ((y, ry), (dx, rdx), (dgamma, rdgamma), (dbeta, rdbeta)):
            np.testing.assert_allclose(a, b, **TOL[np.float64])
        return
    x64, dy64, k = x.astype(np.float64), dy.astype(np.float64), bn_module.BLOCK
    centred = x64 - mean[None, :, None]
    assert np.all(np.abs(dbeta - dy64.sum(axis=(0, 2))) <= k * U32 * np.abs(dy64).sum(axis=(0, 2)))
    product = np.abs(dy64 * centred).sum(axis=(0, 2))
    assert np.all(np.abs(dgamma - invstd * (dy64 * centred).sum(axis=(0, 2))) <= (k + 2) * U32 * invstd * product)
    scale = (gamma * invstd)[None, :, None]
    np.testing.assert_allclose(y, centred * scale + beta[None, :, None], **TOL[np.float32])


@pytest.mark.parametrize("shape", [(6, 7, 5), (4, 6, 70), (9, 11, 1), (40, 4, 3000)])
@pytest.mark.parametrize("forced", [True, False])
@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("path", PATHS)
def test_split_over_threads_gives_the_same_numbers(monkeypatch, shape, forced, stream, path):
    """Slices of channels start at other channels: the first group of a slice is summed
    as later groups are, with y and dx streamed or not; chunks of items are added in
    order whichever thread summed them (forty items of 47 KiB: seven chunks)."""
    rng = np.random.default_rng(1)
    x, dy = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    monkeypatch.setattr(bn_module, "exceeds_cache", lambda *args: stream)
    monkeypatch.setattr(bn_module, "by_items", lambda x: PATHS[path])
    whole = batchnorm_forward_train(x, gamma, beta, 1e-5)
    monkeypatch.setattr(bn_module, "MIN_ELEMENTS_PER_THREAD", 1)  # the real threads split it
    if forced:  # and even on a one-CPU machine, four slices
        monkeypatch.setattr(bn_module, "run_sliced", _forced_split(4))
    split = batchnorm_forward_train(x, gamma, beta, 1e-5)
    for a, b in zip(whole, split):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(batchnorm_backward(dy, x, gamma, whole[1], whole[3])[0],
                                  bn_module.batchnorm_backward(dy, x, gamma, split[1], split[3])[0])


def _forced_split(parts):
    """A run_sliced that always cuts [0, n) into ``parts`` slices, run one after another
    on the calling thread."""
    def run(sliced, n, args, min_per_thread=1, slices_per_thread=None):
        bounds = np.array([n * p // parts for p in range(parts + 1)], np.int64)
        sliced(np.zeros(4, np.int64), bounds, np.zeros(1, np.int64), *args)
    return run


def test_inputs_are_not_modified():
    rng = np.random.default_rng(2)
    x, dy = rng.standard_normal((4, 3, 6)), rng.standard_normal((4, 3, 6))
    for a in (x, dy):
        a.flags.writeable = False
    y, mean, var, invstd = batchnorm_forward_train(x, np.ones(3), np.zeros(3), 1e-5)
    batchnorm_backward(dy, x, np.ones(3), mean, invstd)
    assert y.flags.writeable


@pytest.mark.parametrize("shape", [(2, 0, 3), (2, 0, 1), (0, 3, 4), (2, 3, 0)])
def test_empty_inputs(shape):
    """No channels: empty results. No values in a channel: the training forward has no
    statistics (a clear error), and the backward's sums over nothing are 0."""
    C = shape[1]
    x = np.ones(shape, np.float32)
    if C:
        with pytest.raises(ValueError, match="no values per channel"):
            batchnorm_forward_train(x, np.ones(C), np.zeros(C), 1e-5)
    else:
        y, mean, var, invstd = batchnorm_forward_train(x, np.ones(C), np.zeros(C), 1e-5)
        assert y.shape == shape and mean.shape == var.shape == invstd.shape == (0,)
    dx, dgamma, dbeta = batchnorm_backward(x, x, np.ones(C), np.zeros(C), np.ones(C))
    assert dx.shape == shape and dgamma.tolist() == dbeta.tolist() == [0.0] * C


def _forward_and_backward(monkeypatch, x, dy, gamma, beta, group, stream):
    """The training forward and the backward, channels in groups of ``group``, y and dx
    streamed or not (streaming stores are emitted on x86-64; elsewhere both store
    plainly)."""
    monkeypatch.setattr(bn_module, "by_items", lambda x: False)
    monkeypatch.setattr(bn_module, "group_channels", lambda x: group)
    monkeypatch.setattr(bn_module, "exceeds_cache", lambda *args: stream)
    y, mean, var, inv = batchnorm_forward_train(x, gamma, beta, 1e-5)
    return (y, mean, var, inv) + batchnorm_backward(dy, x, gamma, mean, inv)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 37), (4, 7, 100), (2, 3, 16), (5, 4, 3)])
@pytest.mark.parametrize("group", [2, 3])
def test_channel_groups_give_the_same_numbers_streamed_or_not(monkeypatch, dtype, shape, group):
    """Whatever the group size (channels summed before they are written), every number
    is the one-channel-at-a-time result, with y and dx streamed or not, and both match
    the reference. Streamed, the forward's sums go through register lanes, line by
    line (:mod:`._lanes`), so they may round differently from the unstreamed block sums:
    both are within the sums' error bound. Given the same statistics, the backward
    gives the same numbers streamed or not. Rows of 37 and 100 values start at every
    alignment, so the streamed rows have a head, whole lines and a tail; rows of 3
    values have no whole line."""
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    gamma, beta = rng.standard_normal(shape[1]) + 1.5, rng.standard_normal(shape[1])
    ry, _, _ = ref.batch_norm_train(x, gamma, beta, 1e-5)
    rdx, rdg, rdb = ref.batch_norm_train_backward(dy, x, gamma, 1e-5)
    for stream in (False, True):
        one = _forward_and_backward(monkeypatch, x, dy, gamma, beta, 1, stream)
        for a, b in zip(_forward_and_backward(monkeypatch, x, dy, gamma, beta, group, stream), one):
            np.testing.assert_array_equal(a, b)
        y, mean, var, inv, dx, dg, db = one
        assert_statistics_close(x, mean, var)
        np.testing.assert_allclose(y, ry, **TOL[dtype])
        np.testing.assert_allclose(dx, rdx, **TOL[dtype])
        np.testing.assert_allclose(dg, rdg, **TOL[dtype])
        np.testing.assert_allclose(db, rdb, **TOL[dtype])
    monkeypatch.setattr(bn_module, "exceeds_cache", lambda *args: True)
    streamed = batchnorm_backward(dy, x, gamma, mean, inv)
    monkeypatch.setattr(bn_module, "exceeds_cache", lambda *args: False)
    for a, b in zip(streamed, batchnorm_backward(dy, x, gamma, mean, inv)):
        np.testing.assert_array_equal(a, b)


def test_the_group_size_follows_rows_and_caches(monkeypatch):
    """Where groups are sized for long runs (AMD): a group's run per item reaches
    RUN_BYTES (32 KiB), unless two arrays' worth of the group would not fit in the L2 plus
    a quarter of a thread's share of the L3."""
    sizes = {2: 1 << 20, 3: 32 << 20}
    monkeypatch.setattr(bn_module, "cpu_vendor", lambda: "AuthenticAMD")
    monkeypatch.setattr(bn_module, "usable_cache_bytes", lambda level: sizes[level])
    monkeypatch.setattr(bn_module, "thread_count", lambda: 2)
    assert bn_module.RUN_BYTES == 32 << 10
    assert bn_module.group_channels(np.empty((32, 8, 1024), np.float32)) == 8  # 4 KiB rows
    assert bn_module.group_channels(np.empty((32, 64, 3136), np.float32)) == 3  # 12.25 KiB rows
    assert bn_module.group_channels(np.empty((32, 8, 1024), np.float64)) == 4
    assert bn_module.group_channels(np.empty((4, 64, 16), np.float32)) == 512  # the caller caps it at C
    # 1 MiB a channel and array: 5 MiB hold two channels of two arrays
    assert bn_module.group_channels(np.empty((256, 8, 1024), np.float32)) == 2
    assert bn_module.group_channels(np.empty((512, 8, 1024), np.float32)) == 1
    monkeypatch.setattr(bn_module, "thread_count", lambda: 8)  # 1 + 1 MiB
    assert bn_module.group_channels(np.empty((256, 8, 1024), np.float32)) == 1
    assert bn_module.exceeds_cache(np.empty((32, 64, 4096), np.float32), 1) is False  # exactly 32 MiB
    assert bn_module.exceeds_cache(np.empty((32, 64, 4096), np.float32), 2) is True


def test_x_and_dy_that_fit_in_the_l3_go_by_items_in_chunks_of_at_least_256_kib(monkeypatch):
    sizes = {2: 1 << 20, 3: 32 << 20}
    monkeypatch.setattr(bn_module, "cpu_vendor", lambda: "AuthenticAMD")
    monkeypatch.setattr(bn_module, "usable_cache_bytes", lambda level: sizes[level])
    assert bn_module.by_items(np.empty((64, 32, 1024), np.float32))  # bn-small: 8 MiB an array
    assert bn_module.by_items(np.empty((128, 32, 1024), np.float32))  # 16 MiB: twice exactly fits
    assert not bn_module.by_items(np.empty((129, 32, 1024), np.float32))
    assert not bn_module.by_items(np.empty((32, 64, 3136), np.float32))  # bn-large
    monkeypatch.setattr(bn_module, "cpu_vendor", lambda: "GenuineIntel")  # groups stay in the L2
    assert not bn_module.by_items(np.empty((64, 32, 1024), np.float32))
    assert items_module.CHUNK_BYTES == 256 << 10
    assert items_module.item_chunk(np.empty((64, 32, 1024), np.float32)) == 2  # 128 KiB items
    assert items_module.item_chunk(np.empty((64, 32, 1024), np.float64)) == 1
    assert items_module.item_chunk(np.empty((40, 3, 4096), np.float32)) == 6  # 48 KiB items
    assert items_module.item_chunk(np.empty((2, 1, 1), np.float32)) == 65536  # one chunk of everything
    assert items_module.item_chunk(np.empty((3, 0, 5), np.float32)) == 1 << 18


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_chunks_of_items_are_each_summed_and_written_once_by_any_number_of_threads(threads):
    """The items kernels' first and second passes, run directly on ``threads`` Python
    threads at once (one a scratch slot): every chunk is taken once in each pass, the
    statistics are stored once, and the numbers are those of one thread alone."""
    import threading

    from tinygrad_notes.kernels._spin import SPINNING

    if threads > 1 and not SPINNING:
        threads = 1  # without spinning the kernels run on one thread (see batchnorm_items)
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((13, 4, 300)) * 2 + 3).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    gamma, beta = rng.standard_normal(4) + 1.5, rng.standard_normal(4)
    with _take("items"):
        expected = batchnorm_forward_train(x, gamma, beta, 1e-5)
        expected += batchnorm_backward(dy, x, gamma, expected[1], expected[3])
    chunk = 2  # seven chunks, the last of one item
    counters, bounds = np.zeros(4, np.int64), np.zeros(1, np.int64)

    def on_threads(kernel, *args):
        workers = [threading.Thread(target=kernel, args=(counters, bounds, np.zeros(1, np.int64)) + args)
                   for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()

    work, partial, coefficients, statistics, rows = items_module.scratch(x, chunk, threads, 3, 3, rows=True)
    y, mean, var, invstd = np.full_like(x, np.nan), np.full(4, np.nan), np.full(4, np.nan), np.full(4, np.nan)
    on_threads(items_module.forward_train_items, work, chunk, x, gamma, beta, 1e-5, partial, coefficients,
               statistics, rows, y, mean, var, invstd)
    assert work.tolist() == [7 + threads, 7, 7 + threads, threads]  # every thread found every pass's end
    work, _, coefficients, statistics, _ = items_module.scratch(x, chunk, threads, 4, 2)
    dx, dgamma, dbeta = np.full_like(x, np.nan), np.full(4, np.nan), np.full(4, np.nan)
    on_threads(items_module.backward_items, work, chunk, dy, x, gamma, mean, invstd, True, partial, coefficients,
               statistics, dx, dgamma, dbeta)
    assert work.tolist() == [7 + threads, 7, 7 + threads, threads]
    for got, want in zip((y, mean, var, invstd, dx, dgamma, dbeta), expected):
        np.testing.assert_array_equal(got, want)


def test_on_intel_the_group_size_keeps_two_arrays_of_it_in_a_quarter_of_the_l2(monkeypatch):
    sizes = {2: 2 << 20, 3: 64 << 20}
    monkeypatch.setattr(bn_module, "usable_cache_bytes", lambda level: sizes[level])
    monkeypatch.setattr(bn_module, "cpu_vendor", lambda: "GenuineIntel")
    assert bn_module.L2_SHARE == 4
    assert bn_module.group_channels(np.empty((32, 64, 3136), np.float32)) == 1  # 784 KiB a channel, twice
    assert bn_module.group_channels(np.empty((64, 32, 1024), np.float32)) == 1  # 512 KiB: exactly fits
    assert bn_module.group_channels(np.empty((64, 32, 512), np.float32)) == 2
    assert bn_module.group_channels(np.empty((64, 256, 196), np.float32)) == 5  # 98 KiB: 5.2 fit
    assert bn_module.group_channels(np.empty((4, 64, 16), np.float32)) == 1024  # the caller caps it at C
    assert bn_module.group_channels(np.empty((512, 8, 1024), np.float32)) == 1  # none fits: one
