"""Tests of symdyn.limits.sde: stochastic modified equations against exact discrete stationary
variances, in closed form and in simulation."""

import numpy as np
import pytest
import sympy as sp

import symdyn as sd

x = sp.Symbol("x", real=True)
eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
xi = sp.Symbol("xi", real=True)
sigma = sp.Symbol("sigma", positive=True)
SGD = sd.UpdateRule([x], [(x, x - eta * (lam * x + xi))], [eta])


def _same(a, b):
    return sp.simplify(sp.expand(a - b)) == 0


def test_sgd_sde_on_a_quadratic():
    """dX = −λX dt + √(hσ²) dW; stationary variance hσ²/(2λ), against the exact discrete
    ησ²/(λ(2 − ηλ)) (Li, Tai & E 2017): the ratio tends to 1 as h → 0."""
    sde = sd.sde_limit(SGD, h=eta, noise={xi: sigma**2})
    assert sde.drift[0] == -lam * x
    assert sde.diffusion[0] == eta * sigma**2
    stationary = sde.stationary_covariance()[0]
    assert _same(stationary, eta * sigma**2 / (2 * lam))
    discrete = eta * sigma**2 / (lam * (2 - eta * lam))
    assert sp.limit(stationary / discrete, eta, 0) == 1


def test_heavy_ball_sde_goes_through_the_slow_manifold():
    """Heavy ball: drift −λX/(1 − β), diffusion hσ²/(1 − β)²; its stationary variance matches
    the exact discrete one (discrete Lyapunov equation) to leading order in h."""
    from scipy.linalg import solve_discrete_lyapunov

    v = sp.Symbol("v", real=True)
    rule = sd.UpdateRule([x, v], [(v, beta * v - eta * (lam * x + xi)), (x, x + v)], [eta, beta])
    sde = sd.sde_limit(rule, h=eta, noise={xi: sigma**2})
    assert _same(sde.drift[0], -lam * x / (1 - beta))
    assert _same(sde.diffusion[0], eta * sigma**2 / (1 - beta) ** 2)
    stationary = sde.stationary_covariance()[0]
    gaps = []
    for h in (1e-2, 1e-3, 1e-4):
        b, curvature = 0.6, 2.0
        step = np.array([[1 - h * curvature, b], [-h * curvature, b]])  # (x, v) after one step
        kick = np.array([-h, -h])
        exact = solve_discrete_lyapunov(step, np.outer(kick, kick))[0, 0]
        approx = float(stationary.subs({eta: h, beta: b, lam: curvature, sigma: 1}))
        gaps.append(abs(approx / exact - 1))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-3


def test_sgd_and_its_sde_have_the_predicted_stationary_variances_in_simulation():
    h, curvature = 0.05, 1.0
    sde = sd.sde_limit(SGD, h=eta, noise={xi: sigma**2})
    values = {eta: h, lam: curvature, sigma: 1.0}
    paths = 4000
    continuous = sde.simulate([0.0], 15.0, 0.01, paths, values=values, seed=1)[:, 0]
    rng = np.random.default_rng(2)
    discrete = np.zeros(paths)
    for _ in range(round(15.0 / h)):
        discrete = discrete - h * (curvature * discrete + rng.standard_normal(paths))
    assert continuous.var() == pytest.approx(h / (2 * curvature), rel=0.1)
    assert discrete.var() == pytest.approx(h / (curvature * (2 - h * curvature)), rel=0.1)


def test_sde_limit_refuses_bad_noise():
    with pytest.raises(sd.RuleError, match="do not appear"):
        sd.sde_limit(SGD, h=eta, noise={sp.Symbol("zeta"): 1})
    with pytest.raises(sd.ShapeError, match="covariance"):
        sd.sde_limit(SGD, h=eta, noise=((xi,), sp.eye(2)))
    multiplicative = sd.UpdateRule([x], [(x, x - eta * lam * x * (1 + xi))], [eta])
    with pytest.raises(sd.UndecidedError, match="additive"):
        sd.sde_limit(multiplicative, h=eta, noise={xi: sigma**2})


@pytest.mark.latex
def test_derivations_compile(tmp_path, pdflatex):
    pdf = sd.sde_limit(SGD, h=eta, noise={xi: sigma**2}).derivation.save(tmp_path / "d0.pdf")
    assert pdf.stat().st_size > 0
