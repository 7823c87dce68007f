"""Rate certificates over S(μ, L): published rates, exact verification that can fail, and the
Lyapunov function checked along trajectories on a non-quadratic function of the class."""

import dataclasses
import os
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import symdyn as sd
from symdyn.classes.certificates import verify
from tests.optional import require_module

require_module("cvxpy")
require_module("clarabel")

x, xp = sp.symbols("x x_p", real=True)
eta, beta = sp.symbols("eta beta", positive=True)
f = sp.Function("f")
S = sd.function_classes.SmoothStronglyConvex
TOL = 1e-6


def gd():
    return sd.optimizers.gd(f(x), [x], lr=eta)


def triple_momentum(kappa):
    """Van Scoy, Freeman & Lynch (2018): with ρ = 1 − 1/√κ, α = (1+ρ)/L, β = ρ²/(2−ρ),
    γ = ρ²/((1+ρ)(2−ρ)); x⁺ = (1+β)x − βx_p − α∇f((1+γ)x − γx_p)."""
    rho = 1 - 1 / sp.sqrt(kappa)
    alpha, b, g = (1 + rho) / kappa, rho**2 / (2 - rho), rho**2 / ((1 + rho) * (2 - rho))
    y = sp.Symbol("y", real=True)
    updates = [
        (y, (1 + g) * x - g * xp),
        (sp.Symbol("u", real=True), sd.grad(f(y), y)),
    ]
    u = updates[1][0]
    updates += [(x, (1 + b) * x - b * xp - alpha * u), (xp, x)]
    return sd.UpdateRule([x, xp], updates, simultaneous=True, name="triple momentum"), rho


def rational(value, digits=12):
    fraction = Fraction(float(value)).limit_denominator(10**digits)
    return sp.Rational(fraction.numerator, fraction.denominator)


STEPS = [sp.Rational(1, 20), sp.Rational(1, 10), sp.Rational(3, 20)]


@pytest.mark.parametrize(
    "step", STEPS if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else STEPS[::2]
)
def test_gradient_descent_rate(step):
    """GD on S(1, 10): the certified rate is max(|1 − ημ|, |1 − ηL|) (LRP 2016, §4.4),
    from above (sound) and within tol."""
    cert = sd.best_certified_rate(gd(), S(1, 10), params={eta: step}, tol=TOL)
    expected = max(abs(1 - step), abs(1 - 10 * step))
    assert cert.verified
    assert expected <= cert.rate <= expected + 2 * TOL


@pytest.mark.parametrize("kappa", [10, 100])
def test_nesterov_standard_tuning(kappa):
    """Nesterov with η = 1/L, β = (√κ−1)/(√κ+1) (rounded to 1e-12, the certificate is over
    the rationals): certified rate ≤ √(1 − 1/√κ), Nesterov's (2004) guarantee, and ≥ the
    exact worst case over quadratics with the same parameters (no sound certificate on the
    larger class can beat it)."""
    momentum = rational((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1))
    params = {eta: sp.Rational(1, kappa), beta: momentum}
    rule = sd.optimizers.nesterov(f(x), [x], lr=eta, momentum=beta)
    cert = sd.best_certified_rate(rule, S(1, kappa), params=params, tol=TOL)
    q = sd.quadratic("theta", n=sp.Symbol("n"))
    on_quadratics = sd.worst_case_rate(
        sd.optimizers.nesterov(q.loss, [q.theta], lr=eta, momentum=beta),
        (1, kappa),
        params=params,
    ).rate
    assert cert.verified
    assert cert.rate <= np.sqrt(1 - 1 / np.sqrt(kappa))
    assert cert.rate >= float(on_quadratics)


def test_triple_momentum():
    """Van Scoy et al. (2018): triple momentum converges at 1 − 1/√κ on S(μ, L), the rate
    its IQC certificate attains within tol, and no faster on quadratics (the lower check).

    After one step its filter state is ζ = (5/9)x + (4/9)x_p (κ = 25), so the certificate
    lives on z = (x, x_p): on the whole augmented space the LMI is not strictly feasible
    near ρ*, and the bracket stopped some 5e-4 above it."""
    rule, rho = triple_momentum(25)
    cert = sd.best_certified_rate(rule, S(1, 25), tol=TOL)
    assert cert.verified
    assert rho <= cert.rate <= rho + 2 * TOL
    assert cert.kept == (0, 1)
    assert cert.basis == sp.Matrix([[1, 0], [0, 1], [sp.Rational(5, 9), sp.Rational(4, 9)]])
    on_quadratics = sd.best_certified_rate(rule, sd.function_classes.Quadratics(1, 25))
    assert on_quadratics.verified and on_quadratics.rate == rho
    assert cert.multipliers["off_by_one"] > 0  # the sector IQC alone does not give it
    # a P on the whole augmented state is refused, saying what P acts on
    with pytest.raises(sd.ArgumentError, match=r"z = xi_hat\[0, 1\]"):
        verify(dataclasses.replace(cert, lyapunov=sp.ImmutableMatrix(sp.eye(3))))


def test_the_reached_basis_spans_what_one_step_reaches():
    """T's columns span the column space of [Â B̂] exactly, with the identity in the kept
    rows, for random rational matrices of every rank."""
    from symdyn.classes.iqc import reached_basis

    rng = np.random.default_rng(3)
    for rank in range(1, 4):
        left = sp.Matrix(3, rank, lambda i, j: sp.Rational(int(rng.integers(-4, 5)), 3))
        right = sp.Matrix(rank, 4, lambda i, j: sp.Rational(int(rng.integers(-4, 5)), 2))
        successor = left * right
        T, kept = reached_basis(successor, 3)
        assert T.cols == successor.rank() == len(kept)
        assert T.extract(list(kept), list(range(T.cols))) == sp.eye(T.cols)
        assert sp.Matrix.hstack(T, successor).rank() == T.cols


def test_heavy_ball_at_polyak_tuning_has_no_certificate():
    """Heavy ball at α = 4/(√L+√μ)², β = ((√κ−1)/(√κ+1))², κ = 25: rate 2/3 on quadratics,
    but Lessard, Recht & Packard (2016, §4.6) give f ∈ S(1, 25) on which it cycles, so no
    certificate below 1 may be verified."""
    rule = sd.optimizers.heavy_ball(f(x), [x], lr=eta, momentum=beta)
    params = {eta: sp.Rational(1, 9), beta: sp.Rational(4, 9)}
    cert = sd.best_certified_rate(rule, S(1, 25), params=params, tol=TOL)
    assert not cert.verified
    text = cert.derivation.to_markdown()
    assert "cycles" in text and "Section 4.6" in text and "frac{2}{3}" in text


def test_perturbed_indefinite_lyapunov_fails_the_exact_check():
    cert = sd.certify_rate(gd(), S(1, 10), rate=sp.Rational(19, 20), params={eta: 0.1})
    assert cert.verified and verify(cert).verified
    P = cert.lyapunov
    smallest = min(P.eigenvals())
    bad = P - (smallest + sp.Rational(1, 10**6)) * sp.eye(P.rows)
    assert min(np.linalg.eigvalsh(np.array(bad.tolist(), dtype=float))) < 0
    failed = verify(dataclasses.replace(cert, lyapunov=bad))
    assert not failed.verified
    assert "not positive definite" in failed.reason


def test_a_rate_below_the_true_one_is_never_verified():
    """GD's true rate at η = 1/10 on S(1, 10) is 9/10: below it, neither the solver's
    proposal nor the certificate of a larger rate, re-checked at the smaller rate, passes."""
    below = sp.Rational(9, 10) - sp.Rational(1, 1000)
    cert = sd.certify_rate(gd(), S(1, 10), rate=below, params={eta: 0.1})
    assert not cert.verified
    good = sd.certify_rate(gd(), S(1, 10), rate=sp.Rational(91, 100), params={eta: 0.1})
    assert good.verified
    assert not verify(dataclasses.replace(good, rate=below)).verified


def nesterov_at(mu, big):
    params = {eta: sp.Rational(1, big), beta: sp.Rational(1, 2)}
    rule = sd.optimizers.nesterov(f(x), [x], lr=eta, momentum=beta)
    return sd.certify_rate(rule, S(mu, big), rate=sp.Rational(19, 20), params=params)


def triple_momentum_at(mu, big):
    rule, rho = triple_momentum(big)
    return sd.certify_rate(rule, S(mu, big), rate=rho + sp.Rational(1, 10**4))


@pytest.mark.parametrize("certified", [nesterov_at, triple_momentum_at])
def test_the_lyapunov_function_contracts_on_a_non_quadratic_function(certified):
    """Along the iterates on f(y) = μy²/2 + (L−μ) log cosh y ∈ S(μ, L), with
    ζ_k = q_{k−1}/L: from step 1 on ξ̂_k = T z_k, z_k = ξ̂_k[kept], and
    W_k = V(z_k) + ν G_{k−1} obeys W_{k+1} ≤ ρ² W_k, the certificate's claim."""
    mu, big = 1, 25 if certified is triple_momentum_at else 10
    cert = certified(mu, big)
    assert cert.verified
    P = np.array(cert.lyapunov.tolist(), dtype=float)
    T = np.array(cert.basis.tolist(), dtype=float)
    nu = float(cert.multipliers["off_by_one"])
    rate = float(cert.rate)
    A, B, C = (
        np.array(m.tolist(), dtype=float) for m in (cert.system.A, cert.system.B, cert.system.C)
    )

    def grad_f(y):
        return mu * y + (big - mu) * np.tanh(y)

    def G(y):
        p = grad_f(y) - mu * y
        return (big - mu) * (big - mu) * np.log(np.cosh(y)) - p**2 / 2

    xi, zeta, g_prev = np.array([3.0, -2.0]), 0.0, 0.0
    previous = None
    for k in range(40):
        y = (C @ xi)[0]
        u = grad_f(y)
        hat = np.append(xi, zeta)
        z = hat[list(cert.kept)]
        if k >= 1:
            np.testing.assert_allclose(T @ z, hat, atol=1e-12)
        w = z @ P @ z + nu * g_prev
        if previous is not None:
            assert w <= rate**2 * previous * (1 + 1e-9) + 1e-14
        if k >= 1:
            previous = w
        xi, zeta, g_prev = A @ xi + B[:, 0] * u, (big * y - u) / big, G(y)


def test_quadratics_are_decided_by_the_spectrum():
    """On Quadratics(1, 25) heavy ball at Polyak's tuning has the exact rate 2/3."""
    rule = sd.optimizers.heavy_ball(f(x), [x], lr=eta, momentum=beta)
    params = {eta: sp.Rational(1, 9), beta: sp.Rational(4, 9)}
    cls = sd.function_classes.Quadratics(1, 25)
    best = sd.best_certified_rate(rule, cls, params=params)
    assert best.verified and best.rate == sp.Rational(2, 3)
    assert not sd.certify_rate(rule, cls, rate=sp.Rational(13, 20), params=params).verified


def test_the_derivation_writes_the_proof(pdflatex, tmp_path):
    params = {eta: sp.Rational(1, 10), beta: sp.Rational(1, 2)}
    rule = sd.optimizers.nesterov(f(x), [x], lr=eta, momentum=beta)
    cert = sd.certify_rate(rule, S(1, 10), rate=sp.Rational(19, 20), params=params)
    text = cert.derivation.to_markdown()
    for piece in (
        "V(z)",
        "\\hat\\xi_k - \\hat\\xi^\\star = T (z_k - z^\\star)",
        "sector IQC",
        "off-by-one IQC",
        "M \\preceq 0",
        "\\frac{361}{400}",
    ):
        assert piece in text
    cert.derivation.save(str(tmp_path / "proof.pdf"))
    assert (tmp_path / "proof.pdf").stat().st_size > 1000


def test_bad_rates_are_refused():
    with pytest.raises(sd.ArgumentError, match="rate"):
        sd.certify_rate(gd(), S(1, 10), rate=sp.Rational(3, 2), params={eta: 0.1})
    with pytest.raises(sd.FunctionClassError):
        sd.certify_rate(gd(), "S(1, 10)", rate=sp.Rational(1, 2), params={eta: 0.1})
