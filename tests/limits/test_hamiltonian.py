"""Tests of symdyn.limits.hamiltonian: contraction and Hamiltonian of momentum methods, with the
symbolic claims checked against finite-difference Jacobians of independently written steps."""

import functools
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd

x, y = sp.symbols("x y", real=True)
eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
L = sp.Function("L")
OMEGA_2D = np.block([[np.zeros((2, 2)), np.eye(2)], [-np.eye(2), np.zeros((2, 2))]])


def _fd_jacobian(step, point, h=1e-6):
    point = np.asarray(point, dtype=float)
    columns = []
    for i in range(point.size):
        e = np.zeros_like(point)
        e[i] = h
        columns.append((step(point + e) - step(point - e)) / (2 * h))
    return np.column_stack(columns)


def _grad_1d(value):
    """∇ of log cosh(x) + x⁴/4."""
    return math.tanh(value) + value**3


def _grad_2d(a, b):
    """∇ of log cosh(x + 2y) + x²y²/2."""
    t = math.tanh(a + 2 * b)
    return np.array([t + a * b**2, 2 * t + a**2 * b])


def _heavy_ball_1d(lr, momentum):
    def step(s):
        position, velocity = s
        velocity = momentum * velocity - lr * _grad_1d(position)
        return np.array([position + velocity, velocity])

    return step


def _heavy_ball_2d(lr, momentum):
    def step(s):
        position, velocity = s[:2], s[2:]
        velocity = momentum * velocity - lr * _grad_2d(*position)
        return np.concatenate([position + velocity, velocity])

    return step


def _nesterov_1d(lr, momentum):
    def step(s):
        position, velocity = s
        velocity = momentum * velocity - lr * _grad_1d(position + momentum * velocity)
        return np.array([position + velocity, velocity])

    return step


# -- symbolic claims -----------------------------------------------------------------------


@pytest.mark.parametrize("loss", [lam * x**2 / 2, L(x)])
def test_heavy_ball_is_conformal_symplectic_euler(loss):
    """Heavy ball = conformal symplectic Euler for H = p²/2 + L(q) with step √η and
    contraction β (França et al. 2020, §3)."""
    form = sd.hamiltonian_form(sd.optimizers.heavy_ball(loss, [x], lr=eta, momentum=beta))
    (p,) = form.p
    assert form.is_conformal_symplectic
    assert form.contraction == beta
    assert form.det_jacobian == beta
    assert form.step == sp.sqrt(eta)
    assert sp.expand(form.H - (p**2 / 2 + loss)) == 0
    assert sp.simplify(form.damping + sp.log(beta) / sp.sqrt(eta)) == 0
    assert form.is_symplectic == sp.Eq(beta, 1)
    assert form.coordinates == {p: sp.Symbol("v_x", real=True) / sp.sqrt(eta)}


def test_heavy_ball_is_symplectic_without_damping():
    form = sd.hamiltonian_form(sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=1))
    assert form.is_symplectic == sp.true
    assert form.damping == 0


def test_vector_heavy_ball_has_contraction_beta_and_determinant_beta_squared():
    form = sd.hamiltonian_form(sd.optimizers.heavy_ball(L(x, y), [x, y], lr=eta, momentum=beta))
    assert form.contraction == beta
    assert form.det_jacobian == beta**2
    assert sp.expand(form.H - (sum(p**2 for p in form.p) / 2 + L(x, y))) == 0


@pytest.mark.parametrize("convention", ["torch", "ema"])
def test_framework_conventions_share_the_contraction(convention):
    rule = sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta, convention=convention)
    form = sd.hamiltonian_form(rule)
    assert form.contraction == beta
    assert sp.expand(form.H - (form.p[0] ** 2 / 2 + L(x))) == 0


def test_nesterov_is_not_conformal_symplectic():
    """Nesterov's det J = β(1 − η L''(x + βv)) depends on the curvature."""
    rule = sd.optimizers.nesterov(sp.log(sp.cosh(x)) + x**4 / 4, [x], lr=eta, momentum=beta)
    form = sd.hamiltonian_form(rule)
    assert form.is_conformal_symplectic is False
    assert form.contraction is None and form.H is None
    assert "depends on the state" in form.reason


def test_chosen_coordinates_keep_the_contraction():
    """JᵀΩJ = cΩ is invariant under the linear change p = 2v + x (det 2): c stays β; the
    Hamiltonian form needs q⁺ = q + p⁺, which this choice breaks, so no H is given."""
    rule = sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta)
    v = rule.state[1]
    same = sd.hamiltonian_form(rule, q=[x], p=[v])
    assert same.contraction == beta and same.step == sp.sqrt(eta)
    other = sd.hamiltonian_form(rule, q=[x], p=[2 * v + x])
    assert other.is_conformal_symplectic and other.contraction == beta
    assert other.H is None and "not of the form" in other.reason
    with pytest.raises(sd.RuleError, match="both q"):
        sd.hamiltonian_form(rule, q=[x])
    with pytest.raises(sd.RuleError, match="do not determine"):
        sd.hamiltonian_form(rule, q=[x], p=[x])


def test_gradient_descent_has_no_momentum():
    with pytest.raises(sd.RuleError, match="momentum buffer"):
        sd.hamiltonian_form(sd.optimizers.gd(L(x), [x], lr=eta))


# -- numeric checks against independently written steps -------------------------------------

NONQUADRATIC = sp.log(sp.cosh(x)) + x**4 / 4


@functools.cache
def _form(kind):
    catalogue = {"heavy ball": sd.optimizers.heavy_ball, "nesterov": sd.optimizers.nesterov}
    return sd.hamiltonian_form(catalogue[kind](NONQUADRATIC, [x], lr=eta, momentum=beta))


coordinates = st.floats(-2, 2)
step_sizes = st.floats(1e-3, 0.5)
momenta = st.floats(0.0, 0.99)


@given(coordinates, coordinates, step_sizes, momenta)
def test_heavy_ball_determinant_is_beta_numerically(a, v, lr, momentum):
    form = _form("heavy ball")
    jac = _fd_jacobian(_heavy_ball_1d(lr, momentum), [a, v])
    expected = float(form.det_jacobian.subs({beta: momentum, eta: lr}))
    assert np.linalg.det(jac) == pytest.approx(expected, abs=1e-6)


@given(coordinates, coordinates, coordinates, coordinates, step_sizes, momenta)
def test_vector_heavy_ball_is_conformal_symplectic_numerically(a, b, u, w, lr, momentum):
    jac = _fd_jacobian(_heavy_ball_2d(lr, momentum), [a, b, u, w])
    np.testing.assert_allclose(jac.T @ OMEGA_2D @ jac, momentum * OMEGA_2D, atol=1e-6)
    assert np.linalg.det(jac) == pytest.approx(momentum**2, abs=1e-6)


@given(coordinates, coordinates, step_sizes, st.floats(0.1, 0.99))
def test_nesterov_determinant_matches_finite_differences(a, v, lr, momentum):
    form = _form("nesterov")
    values = {x: a, form.p[0]: v, eta: lr, beta: momentum}
    jac = _fd_jacobian(_nesterov_1d(lr, momentum), [a, v])
    assert np.linalg.det(jac) == pytest.approx(float(form.det_jacobian.subs(values)), abs=1e-6)


@functools.cache
def _force():
    return sp.lambdify([x], sp.diff(_form("heavy ball").H, x))


@given(coordinates, coordinates, step_sizes, momenta)
def test_heavy_ball_step_is_symplectic_euler_of_its_hamiltonian(a, p_value, lr, momentum):
    form = _form("heavy ball")
    force = _force()
    s = float(form.step.subs(eta, lr))
    p_next = momentum * p_value - s * force(a)
    q_next = a + s * p_next
    position, velocity = _heavy_ball_1d(lr, momentum)(np.array([a, s * p_value]))
    assert position == pytest.approx(q_next, abs=1e-12)
    assert velocity / s == pytest.approx(p_next, abs=1e-9)


@pytest.mark.latex
def test_derivations_compile(tmp_path, pdflatex):
    rules = [
        sd.optimizers.heavy_ball(L(x, y), [x, y], lr=eta, momentum=beta),
        sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta, convention="ema"),
        sd.optimizers.nesterov(x**4 / 4, [x], lr=eta, momentum=beta, convention="y-form"),
    ]
    for number, rule in enumerate(rules):
        pdf = sd.hamiltonian_form(rule).derivation.save(tmp_path / f"h{number}.pdf")
        assert pdf.stat().st_size > 0


def test_derivation_defines_omega_and_the_potential_before_using_them():
    """Ω is defined where it first appears; V, used in p⁺ = cp − s∇V(q), is displayed; and no
    sympy text (Subs, Derivative) leaks into the prose of a non-conformal rule."""
    heavy_ball = sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta)
    text = sd.hamiltonian_form(heavy_ball).derivation.to_markdown()
    first = text.index("\\Omega")
    assert text[first:].startswith("\\Omega = \\begin{pmatrix}")
    assert text.index("$$V(q) = ") < text.index("$$H = ")
    nesterov = sd.hamiltonian_form(sd.optimizers.nesterov(L(x), [x], lr=eta, momentum=beta))
    prose = [s.text for s in nesterov.derivation.steps]
    assert not any("Subs(" in p or "Derivative(" in p for p in prose)
