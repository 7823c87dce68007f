"""Tests of symdyn.numeric.stability_maps: analytic maps against the region and simulation."""

import dataclasses
import functools

import numpy as np
import pytest

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, beta, eta, lam
from symdyn.errors import ArgumentError
from tests.optional import require_module


@functools.cache
def rule_of(name):
    return CATALOGUE[name].factory()


@functools.cache
def result_of(name):
    return sd.stability(rule_of(name))


def heavy_ball_grid(n):
    return {eta: np.linspace(0.01, 5.0, n), beta: np.linspace(0.01, 1.2, n)}


def test_analytic_and_simulated_heavy_ball_maps_agree_off_the_boundary():
    """Polyak (1964): stable iff beta < 1 and eta*lambda < 2(1 + beta)."""
    rule = rule_of("heavy-ball")
    analytic = sd.stability_map(rule, heavy_ball_grid(64), fixed={lam: 1.0})
    simulated = sd.stability_map(
        rule, heavy_ball_grid(64), fixed={lam: 1.0}, method="simulate", steps=500
    )
    assert analytic.values.shape == analytic.stable.shape == (64, 64)
    assert analytic.agreement(simulated) >= 0.995
    assert 0.3 < analytic.stable.mean() < 0.7
    wrong = analytic.stable != simulated.stable
    assert np.all(np.abs(analytic.values[wrong] - 1) < 0.02)
    # the exact region, independently
    e, b = np.meshgrid(*heavy_ball_grid(64).values(), indexing="ij")
    np.testing.assert_array_equal(analytic.stable, (b < 1) & (e < 2 * (1 + b)))


def test_eigenvalue_path_equals_the_closed_form_radius():
    result = result_of("heavy-ball")
    closed = sd.stability_map(result, heavy_ball_grid(32), fixed={"lambda": 2.0})
    numeric = sd.stability_map(
        dataclasses.replace(result, spectral_radius=None),
        heavy_ball_grid(32),
        fixed={"lambda": 2.0},
    )
    np.testing.assert_allclose(closed.values, numeric.values, rtol=1e-6, atol=1e-9)
    assert closed.agreement(numeric) == 1.0


def test_stability_map_rejects_unknown_axes():
    with pytest.raises(ArgumentError, match='no symbol is called "gamma"'):
        sd.stability_map(rule_of("gd"), {"gamma": [1.0]})


def test_chunked_map_equals_the_in_memory_map():
    require_module("dask.array")
    rule = rule_of("heavy-ball")
    grid = {eta: np.linspace(0.01, 5.0, 90), beta: np.linspace(0.01, 1.2, 70)}
    whole = sd.stability_map(rule, grid, fixed={lam: 1.0})
    blocks = sd.stability_map(rule, grid, fixed={lam: 1.0}, chunks=(32, 25))
    assert blocks.stable.chunks == ((32, 32, 26), (25, 25, 20))
    np.testing.assert_array_equal(blocks.stable.compute(), whole.stable)
    np.testing.assert_allclose(blocks.values.compute(), whole.values)
    assert whole.agreement(blocks) == 1.0
    simulated = sd.stability_map(rule, grid, fixed={lam: 1.0}, method="simulate", chunks=40)
    assert whole.agreement(simulated) >= 0.99


def test_chunked_map_runs_on_a_distributed_cluster():
    """The same call, computed by worker processes of a dask.distributed cluster: the
    blocks' generated code travels to them (cloudpickle) and gives the same numbers."""
    require_module("dask.array")
    distributed = require_module("distributed")
    rule = rule_of("heavy-ball")
    grid = {eta: np.linspace(0.01, 5.0, 60), beta: np.linspace(0.01, 1.2, 50)}
    whole = sd.stability_map(rule, grid, fixed={lam: 1.0})
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        for method in ("analytic", "simulate"):
            smap = sd.stability_map(rule, grid, fixed={lam: 1.0}, method=method, chunks=25)
            stable, values = client.compute([smap.stable, smap.values], sync=True)
            if method == "analytic":
                np.testing.assert_array_equal(stable, whole.stable)
                np.testing.assert_allclose(values, whole.values)
            else:
                assert (stable == whole.stable).mean() >= 0.99
        workers = client.run(lambda: __import__("os").getpid())
    assert len(set(workers.values())) == 2


@pytest.mark.parametrize("closed_form", [True, False])
def test_analytic_map_in_slabs_equals_one_pass(closed_form, monkeypatch):
    """Slabs of 7 rows over 45 (the last one short) give the single pass's numbers exactly,
    with the closed-form radius and with batched eigenvalues of the Jacobian."""
    from symdyn.numeric import stability_maps as maps

    result = result_of("heavy-ball")
    if not closed_form:
        result = dataclasses.replace(result, spectral_radius=None)
    grid = {eta: np.linspace(0.01, 5.0, 45), beta: np.linspace(0.01, 1.2, 9)}
    whole = sd.stability_map(result, grid, fixed={lam: 1.0})
    monkeypatch.setattr(maps, "SLAB", 7 * 9)
    sliced = sd.stability_map(result, grid, fixed={lam: 1.0})
    np.testing.assert_array_equal(sliced.values, whole.values)
    np.testing.assert_array_equal(sliced.stable, whole.stable)
    assert whole.stable.any() and not whole.stable.all()
