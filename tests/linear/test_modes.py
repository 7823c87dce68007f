"""Modal reduction: quadratics of any dimension reduce to one k×k system per eigenvalue.

Per-eigenvalue regions are checked against numpy's spectral radius of the full
2n×2n Jacobian, built from a plain NumPy implementation of each method (not
from symdyn's expressions), for random SPD Hessians and positive diagonal
preconditioners.
"""

import functools

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import symdyn as sd
from symdyn.linear.quadratics import PositiveDiagonalMatrixSymbol, SymmetricMatrixSymbol

eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
x = sp.Symbol("x", real=True)
N = sp.Symbol("n")


def exact(value):
    return sp.Rational(str(round(value, 4)))


@functools.cache
def symbolic(name):
    """The per-eigenvalue stability result of ``name`` on a quadratic of symbolic size."""
    q = sd.quadratic("theta", n=N)
    factory = {
        "heavy-ball": lambda: sd.optimizers.heavy_ball(q.loss, [q.theta], eta, beta),
        "nesterov": lambda: sd.optimizers.nesterov(q.loss, [q.theta], eta, beta),
        "adam": lambda: sd.optimizers.adam(q.loss, [q.theta], eta, beta),
        "rmsprop-torch": lambda: sd.optimizers.rmsprop(
            q.loss, [q.theta], eta, beta, convention="torch"
        ),
    }[name]
    return sd.stability(factory())


# Plain NumPy steps, written from the published equations (the independent side).
def heavy_ball_step(theta, v, H, P, e, b):
    v = b * v - e * (H @ theta)
    return theta + v, v


def nesterov_step(theta, v, H, P, e, b):
    v = b * v - e * (H @ (theta + b * v))
    return theta + v, v


def adam_step(theta, m, H, P, e, b):
    m = b * m + (1 - b) * (H @ theta)
    return theta - e * m / np.diag(P), m


def rmsprop_torch_step(theta, buf, H, P, e, b):
    buf = b * buf + (H @ theta) / np.diag(P)
    return theta - e * buf, buf


STEPS = {
    "heavy-ball": heavy_ball_step,
    "nesterov": nesterov_step,
    "adam": adam_step,
    "rmsprop-torch": rmsprop_torch_step,
}


def full_jacobian(step, H, P, e, b):
    """The 2n×2n Jacobian of a linear step, column by column."""
    n = len(H)
    columns = []
    for basis in np.eye(2 * n):
        theta, buffer = step(basis[:n], basis[n:], H, P, e, b)
        columns.append(np.concatenate([theta, buffer]))
    return np.column_stack(columns)


@st.composite
def problems(draw, preconditioned):
    n = draw(st.integers(1, 6), label="n")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    spectrum = draw(st.lists(st.floats(0.05, 4), min_size=n, max_size=n), label="eigenvalues")
    H = q @ np.diag(spectrum) @ q.T
    H = (H + H.T) / 2
    P = np.diag(rng.uniform(0.2, 3, size=n)) if preconditioned else np.eye(n)
    return H, P


@functools.cache
def mode_discriminant(name):
    poly = symbolic(name).charpoly
    return sp.lambdify([eta, beta, lam], sp.discriminant(poly.as_expr(), poly.gen), "math")


@pytest.mark.parametrize("name", sorted(STEPS))
@given(data=st.data())
def test_per_eigenvalue_region_matches_full_jacobian(name, data):
    H, P = data.draw(problems(preconditioned=name in ("adam", "rmsprop-torch")))
    e = data.draw(st.floats(0.01, 2.5).map(exact), label="eta")
    b = data.draw(st.floats(0.0, 1.3).map(exact), label="beta")
    assume(b > 0)
    radius = max(abs(np.linalg.eigvals(full_jacobian(STEPS[name], H, P, float(e), float(b)))))
    assume(abs(radius - 1) > 1e-6)
    result = symbolic(name)
    eigenvalues = np.linalg.eigvals(np.linalg.solve(P, H)).real
    # A double root of a mode's charpoly makes the full Jacobian defective; NumPy's
    # eigenvalues are then only good to about sqrt(eps), so such draws cannot be compared.
    discriminant = mode_discriminant(name)
    assume(all(abs(discriminant(float(e), float(b), ev)) > 1e-6 for ev in eigenvalues))
    verdict = all(result.is_stable({eta: e, beta: b, lam: exact(ev)}) for ev in eigenvalues)
    # Rounding the eigenvalues to 4 digits may move one across the boundary.
    per_mode = [
        float(result.spectral_radius.subs({eta: e, beta: b, lam: ev})) for ev in eigenvalues
    ]
    assert max(per_mode) == pytest.approx(radius, rel=1e-7, abs=1e-9)
    if abs(max(per_mode) - 1) > 1e-3:
        assert verdict == (radius < 1), (name, e, b, eigenvalues, radius, result.region)


def test_symbolic_dimension_gives_the_scalar_region():
    """Heavy ball on θᵀHθ/2 − bᵀθ, any n: β < 1 and ηλ < 2(1 + β) (Polyak 1964)."""
    result = symbolic("heavy-ball")
    scalar = sd.stability(sd.optimizers.heavy_ball(lam * x**2 / 2, [x], eta, beta))
    assert result.region == scalar.region
    assert result.region == sp.And(beta < 1, sp.Lt(eta * lam, 2 * beta + 2))
    text = result.derivation.to_markdown()
    assert "for every eigenvalue" in text and "commute" in text
    for n in (1, 3):
        q = sd.quadratic("theta", n=n)
        concrete = sd.stability(sd.optimizers.heavy_ball(q.loss, [q.theta], eta, beta))
        assert concrete.region == result.region
        assert f"each of the {n} modes" in concrete.derivation.to_markdown()


def test_nesterov_region_for_any_dimension():
    scalar = sd.stability(sd.optimizers.nesterov(lam * x**2 / 2, [x], eta, beta))
    assert symbolic("nesterov").region == scalar.region


def test_adam_is_reduced_through_the_preconditioned_matrix():
    """Frozen Adam: EMA-momentum region with λ an eigenvalue of P⁻¹H."""
    result = symbolic("adam")
    ema = sd.stability(sd.optimizers.heavy_ball(lam * x**2 / 2, [x], eta, beta, convention="ema"))
    assert result.region == ema.region
    assert "similar to the symmetric" in result.derivation.to_markdown()
    q = sd.quadratic("theta", n=N)
    reduction = sd.modes(sd.optimizers.adam(q.loss, [q.theta], eta, beta))
    assert reduction.scaling == (0, -1)
    assert str(reduction.matrix) == "P_theta**(-1)*H"


def two_quadratics(n):
    theta = sp.MatrixSymbol("theta", n, 1)
    H, K = SymmetricMatrixSymbol("H", n), SymmetricMatrixSymbol("K", n)
    loss = sp.MatMul(sp.Rational(1, 2), theta.T, H + K, theta)
    return sd.optimizers.heavy_ball(loss, [theta], eta, beta)


def test_non_commuting_blocks_with_symbolic_n_raise():
    rule = two_quadratics(N)
    with pytest.raises(sd.NonCommutingError, match="symbolic"):
        sd.stability(rule)


def test_non_commuting_blocks_with_concrete_n_use_the_full_jacobian():
    rule = two_quadratics(2)
    reduction = sd.modes(rule)
    assert reduction.full and reduction.jacobian.shape == (4, 4)
    rng = np.random.default_rng(0)
    H, K = (a @ a.T for a in rng.normal(size=(2, 2, 2)))
    values = {eta: 0.1, beta: 0.5}
    for name, M in (("H", H), ("K", K)):
        for i in range(2):
            for j in range(i, 2):
                values[sp.Symbol(f"{name}_{i}{j}", real=True)] = M[i, j]
    numeric = np.array(reduction.jacobian.subs(values), dtype=float)
    expected = full_jacobian(heavy_ball_step, H + K, np.eye(2), 0.1, 0.5)
    assert np.allclose(numeric, expected)
    # A diagonal preconditioner's entries are positive, and off-diagonal entries vanish.
    P = PositiveDiagonalMatrixSymbol("P", 2)
    assert P.as_explicit()[0, 1] == 0 and P.T == P


def test_nonlinear_rule_is_refused():
    theta = sp.MatrixSymbol("theta", N, 1)
    rule = sd.UpdateRule([theta], [(theta, theta - eta * theta * (theta.T * theta))], [eta])
    with pytest.raises(sd.RuleError, match="not linear"):
        sd.modes(rule)


def test_bias_corrected_adam_reports_the_asymptotic_region():
    q = sd.quadratic("theta", n=N)
    rule = sd.optimizers.adam(q.loss, [q.theta], eta, beta, bias_correction=True)
    assert rule.is_time_varying
    result = sd.stability(rule)
    assert result.region == symbolic("adam").region
    assert "asymptotic region" in result.derivation.to_markdown()
    assert sd.modes(rule).asymptotic


def test_rescaled_state_and_scalar_modes():
    q = sd.quadratic("theta", n=3)
    reduction = sd.modes(sd.optimizers.gd(q.loss, [q.theta], eta))
    assert reduction.jacobian == sp.ImmutableMatrix([[1 - eta * lam]])
    assert not reduction.full and reduction.eigenvalue == lam
    with pytest.raises(sd.ShapeError):
        sd.modes(sd.optimizers.gd(lam * x**2 / 2, [x], eta))


# -- time-varying rules: the limit of the Jacobian as the counter grows -------------------

K = sp.Symbol("k", integer=True, positive=True)


def _scheduled(factor):
    q = sd.quadratic("theta", n=N)
    theta = q.theta
    return sd.UpdateRule(
        [theta], [(theta, theta - eta * factor * sd.grad(q.loss, theta))], counter=K
    )


@settings(max_examples=15, deadline=None)
@given(
    base=st.fractions(min_value=-0.95, max_value=0.95).filter(lambda b: b != 0),
    scale=st.fractions(min_value=-3, max_value=3).filter(lambda c: c != 0),
    inverted=st.booleans(),
)
def test_the_limit_of_a_geometric_schedule_is_the_jacobian_at_large_k(base, scale, inverted):
    """η_k = η(1 + c·bᵏ) (or c/(1/b)ᵏ, the same number written with a base above 1): the
    asymptotic Jacobian equals the schedule's 1 − η(1 + c·bᵏ)λ, computed in floats at a k
    where |b|ᵏ < 1e-15, to 1e-12."""
    b = sp.Rational(base)
    power = 1 / (1 / b) ** K if inverted else b**K
    reduction = sd.modes(_scheduled(1 + sp.Rational(scale) * power))
    assert reduction.asymptotic and reduction.requires == ()
    large = int(np.ceil(np.log(1e-15) / np.log(abs(float(base)))))  # |b|^k below 1e-15
    at_large_k = 1 - eta * (1 + float(scale) * float(base) ** large) * lam
    for value in (0.3, 1.7):
        got = float(reduction.jacobian[0].subs({eta: value, lam: 1}))
        assert got == pytest.approx(float(at_large_k.subs({eta: value, lam: 1})), abs=1e-12)


@pytest.mark.parametrize(
    "factor",
    [1 + (-1) ** K / 2, 1 + 2**K, K / (K + 1)],
    ids=["oscillating (-1)^k", "growing 2^k", "rational in k"],
)
def test_a_jacobian_without_a_limit_symdyn_can_take_is_undecided(factor):
    """(−1)ᵏ has no limit (steps 3η/2, η/2 alternate: stable up to ηλ < 8/3, not 2), 2ᵏ grows
    without bound; before, each power was replaced by 0 and the region ηλ < 2 claimed."""
    with pytest.raises(sd.UndecidedError, match="no limit"):
        sd.stability(_scheduled(factor))


def test_an_undecided_base_is_a_condition_of_the_region():
    """1 + βᵏ with β only positive: the limit needs β < 1, and the region says so."""
    result = sd.stability(_scheduled(1 + beta**K))
    assert result.region == sp.And(beta < 1, eta * lam < 2)
    assert "which the limit is taken under" in result.derivation.to_markdown()
