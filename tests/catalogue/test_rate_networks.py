"""Rate networks τ dh/dt = −h + W φ(h) + U x + b: the field and its Euler step against the
equations written out here, the round trip through ``continuous_limit``, the stable Euler
step against numeric spectral radii, Routh–Hurwitz against numeric eigenvalues, and the
Lyapunov spectrum of the flow against the Jacobian's eigenvalues."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symdyn as sd
import symdyn.autodiff as ad
from symdyn import operators as ops

h1, h2, x = sp.symbols("h1 h2 x", real=True)
w, g = sp.symbols("w g", real=True)
tau, dt = sp.symbols("tau dt", positive=True)


def sigmoid(u):
    return 1 / (1 + sp.exp(-u))


def test_the_field_and_its_euler_step_are_the_documented_equations():
    """f = (−h + W φ(h) + U x + b)/τ, h ← h + Δt f, for both activations."""
    W = [[0, g], [-g, sp.Rational(1, 2)]]
    for activation, phi in (("tanh", sp.tanh), ("sigmoid", sigmoid)):
        net = sd.models.rate_network(
            W,
            [h1, h2],
            tau=tau,
            activation=activation,
            input_weights=[[1], [3]],
            inputs=[x],
            bias=[0, w],
            step=dt,
        )
        field = [
            (-h1 + g * phi(h2) + x) / tau,
            (-h2 - g * phi(h1) + phi(h2) / 2 + 3 * x + w) / tau,
        ]
        for got, want in zip(net.vector_field, field, strict=True):
            assert sp.simplify(got - want) == 0
        for got, h, f in zip(net.euler.map, (h1, h2), field, strict=True):
            assert sp.simplify(got - (h + dt * f)) == 0
        assert net.euler.params == (dt, g, tau, w)
        assert net.euler.free == (x,)


def test_jacobian_at_the_origin_is_minus_identity_plus_gain_times_w():
    """∂f/∂h(0) = (−I + φ′(0) W)/τ, φ′(0) = 1 (tanh) or 1/4 (sigmoid)."""
    W = sp.Matrix([[w, 2], [-1, 3]])
    for activation, slope in (("tanh", 1), ("sigmoid", sp.Rational(1, 4))):
        net = sd.models.rate_network(W, [h1, h2], tau=tau, activation=activation)
        want = (-sp.eye(2) + slope * W) / tau
        assert sp.simplify(net.jacobian(at={h1: 0, h2: 0}) - want) == sp.zeros(2, 2)


def assert_round_trip(net, limit):
    """continuous_limit(net.euler, h=Δt) is dh/dt = f(h), to O(Δt)."""
    curves = {v: limit.functions[v] for v in net.state}
    assert limit.order == 1 and limit.error_order == 1
    for eq, v, f in zip(limit.ode, net.state, net.vector_field, strict=True):
        assert eq.lhs == sp.Derivative(curves[v], limit.t)
        assert sp.simplify(eq.rhs - f.subs(curves)) == 0


def test_continuous_limit_of_a_sigmoid_unit_is_its_ode():
    net = sd.models.rate_network([[w]], [h1], tau=tau, activation="sigmoid", bias=[1])
    assert_round_trip(net, sd.continuous_limit(net.euler, h=net.step))


@pytest.fixture(scope="module")
def gain_network():
    """W = g W₀ with W₀ = [[0, 1], [−1, 1/2]]: the origin loses stability at
    g = 1/max Re λ(W₀) = 4, through a complex pair (λ(W₀) = 1/4 ± i√15/4)."""
    net = sd.models.rate_network([[0, g], [-g, g / 2]], [h1, h2])
    return net, sd.continuous_limit(net.euler, h=net.step)


def test_continuous_limit_of_a_two_unit_network_is_its_ode(gain_network):
    assert_round_trip(*gain_network)


def test_routh_hurwitz_of_the_limit_matches_numeric_eigenvalues(gain_network):
    """The Routh–Hurwitz region at the origin holds exactly where every eigenvalue of
    −I + g W₀ has negative real part."""
    _net, limit = gain_network
    region = sd.routh_hurwitz(limit, at={h1: 0, h2: 0}).region
    W0 = np.array([[0.0, 1.0], [-1.0, 0.5]])
    for gain in (0.5, 2.0, 3.9, 4.1, 7.0):
        stable = bool(np.all(np.linalg.eigvals(gain * W0 - np.eye(2)).real < 0))
        assert bool(region.subs(g, sp.Rational(gain))) == stable


entries = st.integers(-8, 8).map(lambda n: sp.Rational(n, 4))


@settings(max_examples=6)
@given(st.lists(entries, min_size=4, max_size=4), st.floats(0.01, 3.0))
def test_the_largest_stable_euler_step_matches_numeric_spectral_radii(values, step):
    """At the origin the Euler step's Jacobian is I + Δt(W − I): sd.stability's region at a
    drawn Δt agrees with its numeric spectral radius, and the exact largest stable Δt with
    min over eigenvalues μ of W − I of −2 Re μ/|μ|²."""
    W = sp.Matrix(2, 2, values)
    net = sd.models.rate_network(W, [h1, h2])
    result = sd.stability(net.euler, at={h1: 0, h2: 0})
    A = np.array(W, dtype=float) - np.eye(2)
    radius = max(abs(np.linalg.eigvals(np.eye(2) + step * A)))
    if abs(radius - 1) > 1e-9:
        assert result.is_stable({net.step: sp.Rational(step)}) == (radius < 1)
    mu = np.linalg.eigvals(A)
    if np.all(mu.real < 0):
        bound = sp.reduce_inequalities(list(result.conditions), net.step)
        largest = max(float(rel.rhs) for rel in sp.And.make_args(bound) if rel.lhs == net.step)
        assert largest == pytest.approx(min(-2 * mu.real / abs(mu) ** 2), rel=1e-9)


def test_lyapunov_spectrum_of_the_flow_is_the_jacobians_real_parts():
    """Near a stable equilibrium the flow's exponents (per unit time) are Re μ of the
    Jacobian there; the flow map is RK4 on the field printed into autodiff code."""
    W = [[sp.Rational(1, 2), 1], [0, sp.Rational(-1, 2)]]
    net = sd.models.rate_network(W, [h1, h2], tau=2)
    field = sp.lambdify([list(net.state)], list(net.vector_field), modules=[ad.namespace])

    def f(h):
        return ad.stack(field([h[0], h[1]]))

    delta = 0.05

    def flow(h):
        k1 = f(h)
        k2 = f(h + delta / 2 * k1)
        k3 = f(h + delta / 2 * k2)
        k4 = f(h + delta * k3)
        return h + delta / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    exponents = ops.lyapunov_spectrum(flow, np.array([0.3, -0.2]), steps=200) / delta
    expected = np.sort(np.linalg.eigvals(np.array(net.jacobian(at={h1: 0, h2: 0}), float)).real)
    assert exponents == pytest.approx(expected[::-1], abs=0.02)


def test_bad_input_is_named():
    with pytest.raises(sd.RuleError, match="activation"):
        sd.models.rate_network([[1]], [h1], activation="relu")
    with pytest.raises(sd.ShapeError, match="W is 1×1 for 2 units"):
        sd.models.rate_network([[1]], [h1, h2])
    with pytest.raises(sd.RuleError, match="tau"):
        sd.models.rate_network([[1]], [h1], tau=w)
    with pytest.raises(sd.RuleError, match="both input_weights"):
        sd.models.rate_network([[1]], [h1], inputs=[x])
