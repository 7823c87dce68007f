"""Every optimizer of the catalogue, in every convention, against the update equations its
docstring documents, written out here again by hand with ``sympy.diff``.

The loss is not quadratic and couples two variables, so a gradient read at the wrong point
(Nesterov's look-ahead, the y-form's extrapolation) or a missing factor shows up."""

import pytest
import sympy as sp

import symdyn as sd

x1, x2 = sp.symbols("x1 x2", real=True)
X = (x1, x2)
eta, beta, tau, omega, p1, p2 = sp.symbols("eta beta tau omega p1 p2", positive=True)
k = sp.Symbol("k", integer=True, positive=True)
c = sp.Symbol("c", positive=True)  # a free symbol of the loss
LOSS = c * x1**2 * x2 / 2 + sp.cos(x1) + 3 * x2**2 / 2 + x1 * x2
P = (p1, p2)


def real(name):
    return sp.Symbol(name, real=True)


def buffers(prefix):
    return tuple(real(f"{prefix}_{x.name}") for x in X)


def gradient_at(point):
    """∇L at ``point`` (a tuple), by sympy.diff and substitution."""
    at = dict(zip(X, point, strict=True))
    return tuple(sp.diff(LOSS, x).subs(at, simultaneous=True) for x in X)


G = gradient_at(X)


def check(rule, expected, params):
    """The rule's state, parameters and map are ``expected`` (state → next value)."""
    assert rule.state == tuple(expected)
    assert rule.params == tuple(params)
    for got, (target, want) in zip(rule.map, expected.items(), strict=True):
        assert sp.simplify(got - want) == 0, f"{rule.name}: {target}"


def test_gd():
    """x ← x − η ∇L(x)."""
    rule = sd.optimizers.gd(LOSS, list(X), lr=eta)
    check(rule, {x: x - eta * g for x, g in zip(X, G, strict=True)}, [eta])
    assert rule.free == (c,)


def test_heavy_ball_polyak():
    """v ← βv − η∇L(x); x ← x + v."""
    V = buffers("v")
    new_v = [beta * v - eta * g for v, g in zip(V, G, strict=True)]
    expected = {x: x + nv for x, nv in zip(X, new_v, strict=True)}
    expected |= dict(zip(V, new_v, strict=True))
    check(sd.optimizers.heavy_ball(LOSS, list(X), lr=eta, momentum=beta), expected, [eta, beta])


def test_heavy_ball_torch_with_dampening():
    """b ← μb + (1 − τ)∇L(x); x ← x − ηb."""
    B = buffers("b")
    new_b = [beta * b + (1 - tau) * g for b, g in zip(B, G, strict=True)]
    expected = {x: x - eta * nb for x, nb in zip(X, new_b, strict=True)}
    expected |= dict(zip(B, new_b, strict=True))
    rule = sd.optimizers.heavy_ball(
        LOSS, list(X), lr=eta, momentum=beta, convention="torch", dampening=tau
    )
    check(rule, expected, [eta, beta, tau])


def test_heavy_ball_ema():
    """m ← βm + (1 − β)∇L(x); x ← x − ηm."""
    M = buffers("m")
    new_m = [beta * m + (1 - beta) * g for m, g in zip(M, G, strict=True)]
    expected = {x: x - eta * nm for x, nm in zip(X, new_m, strict=True)}
    expected |= dict(zip(M, new_m, strict=True))
    rule = sd.optimizers.heavy_ball(LOSS, list(X), lr=eta, momentum=beta, convention="ema")
    check(rule, expected, [eta, beta])


def test_heavy_ball_with_a_momentum_schedule():
    """Polyak's form with β_k = (k − 1)/(k + 2): the counter is not a parameter."""
    V = buffers("v")
    schedule = (k - 1) / (k + 2)
    new_v = [schedule * v - eta * g for v, g in zip(V, G, strict=True)]
    expected = {x: x + nv for x, nv in zip(X, new_v, strict=True)}
    expected |= dict(zip(V, new_v, strict=True))
    rule = sd.optimizers.heavy_ball(LOSS, list(X), lr=eta, momentum=schedule, counter=k)
    check(rule, expected, [eta])
    assert rule.counter == k


def test_nesterov_sutskever():
    """v ← βv − η∇L(x + βv); x ← x + v."""
    V = buffers("v")
    ahead = gradient_at(tuple(x + beta * v for x, v in zip(X, V, strict=True)))
    new_v = [beta * v - eta * g for v, g in zip(V, ahead, strict=True)]
    expected = {x: x + nv for x, nv in zip(X, new_v, strict=True)}
    expected |= dict(zip(V, new_v, strict=True))
    check(sd.optimizers.nesterov(LOSS, list(X), lr=eta, momentum=beta), expected, [eta, beta])


def test_nesterov_torch():
    """b ← μb + ∇L(x); x ← x − η(∇L(x) + μb)."""
    B = buffers("b")
    new_b = [beta * b + g for b, g in zip(B, G, strict=True)]
    expected = {x: x - eta * (g + beta * nb) for x, g, nb in zip(X, G, new_b, strict=True)}
    expected |= dict(zip(B, new_b, strict=True))
    rule = sd.optimizers.nesterov(LOSS, list(X), lr=eta, momentum=beta, convention="torch")
    check(rule, expected, [eta, beta])


def test_nesterov_two_point_form():
    """y ← x + β(x − x_prev); x_prev ← x; x ← y − η∇L(y)."""
    previous = tuple(real(f"{x.name}_prev") for x in X)
    y = tuple(x + beta * (x - q) for x, q in zip(X, previous, strict=True))
    at_y = gradient_at(y)
    expected = {x: yi - eta * g for x, yi, g in zip(X, y, at_y, strict=True)}
    expected |= dict(zip(previous, X, strict=True))
    rule = sd.optimizers.nesterov(LOSS, list(X), lr=eta, momentum=beta, convention="y-form")
    check(rule, expected, [eta, beta])


@pytest.mark.parametrize("convention", ["polyak", "torch"])
def test_rmsprop_without_momentum_is_a_preconditioned_step(convention):
    """θ ← θ − η P⁻¹(∇L(θ) + ωθ), in both conventions, with no buffer."""
    decayed = [g + omega * x for g, x in zip(G, X, strict=True)]
    expected = {x: x - eta * d / p for x, d, p in zip(X, decayed, P, strict=True)}
    rule = sd.optimizers.rmsprop(
        LOSS, list(X), lr=eta, weight_decay=omega, preconditioner=list(P), convention=convention
    )
    check(rule, expected, [eta, omega])


def test_rmsprop_polyak_momentum():
    """u ← βu − ηP⁻¹(∇L + ωθ); θ ← θ + u."""
    U = buffers("u")
    new_u = [beta * u - eta * (g + omega * x) / p for u, g, x, p in zip(U, G, X, P, strict=True)]
    expected = {x: x + nu for x, nu in zip(X, new_u, strict=True)}
    expected |= dict(zip(U, new_u, strict=True))
    rule = sd.optimizers.rmsprop(
        LOSS, list(X), lr=eta, momentum=beta, weight_decay=omega, preconditioner=list(P)
    )
    check(rule, expected, [eta, beta, omega])


def test_rmsprop_torch_momentum():
    """b ← μb + P⁻¹(∇L + ωθ); θ ← θ − ηb."""
    B = buffers("b")
    new_b = [beta * b + (g + omega * x) / p for b, g, x, p in zip(B, G, X, P, strict=True)]
    expected = {x: x - eta * nb for x, nb in zip(X, new_b, strict=True)}
    expected |= dict(zip(B, new_b, strict=True))
    rule = sd.optimizers.rmsprop(
        LOSS,
        list(X),
        lr=eta,
        momentum=beta,
        weight_decay=omega,
        preconditioner=list(P),
        convention="torch",
    )
    check(rule, expected, [eta, beta, omega])


def test_frozen_preconditioner_symbols():
    """preconditioner="frozen" divides by a positive symbol p_θ per variable."""
    rule = sd.optimizers.rmsprop(LOSS, list(X), lr=eta)
    frozen = tuple(sp.Symbol(f"p_{x.name}", positive=True) for x in X)
    check(rule, {x: x - eta * g / p for x, g, p in zip(X, G, frozen, strict=True)}, [eta])


@pytest.mark.parametrize("bias_correction", [False, True])
@pytest.mark.parametrize("convention, decay", [("kingma", 0), ("torch", omega)])
def test_adam(convention, decay, bias_correction):
    """m ← β₁m + (1 − β₁)(∇L + ωθ); θ ← θ − η c_k P⁻¹m, c_k = 1/(1 − β₁ᵏ) or 1."""
    M = buffers("m")
    new_m = [beta * m + (1 - beta) * (g + decay * x) for m, g, x in zip(M, G, X, strict=True)]
    ck = 1 / (1 - beta**k) if bias_correction else 1
    expected = {x: x - eta * ck * nm / p for x, nm, p in zip(X, new_m, P, strict=True)}
    expected |= dict(zip(M, new_m, strict=True))
    rule = sd.optimizers.adam(
        LOSS,
        list(X),
        lr=eta,
        beta1=beta,
        weight_decay=decay,
        bias_correction=bias_correction,
        preconditioner=list(P),
        convention=convention,
        counter=k,
    )
    check(rule, expected, [eta, beta] + ([omega] if decay != 0 else []))
    assert rule.counter == (k if bias_correction else None)


@pytest.mark.parametrize("bias_correction", [False, True])
@pytest.mark.parametrize("convention", ["torch", "loshchilov"])
def test_adamw(convention, bias_correction):
    """m ← β₁m + (1 − β₁)∇L; θ ← θ − η c_k P⁻¹m − ηωθ (torch) or − ωθ (Loshchilov)."""
    M = buffers("m")
    new_m = [beta * m + (1 - beta) * g for m, g in zip(M, G, strict=True)]
    ck = 1 / (1 - beta**k) if bias_correction else 1
    shrink = eta * omega if convention == "torch" else omega
    expected = {
        x: x - eta * ck * nm / p - shrink * x for x, nm, p in zip(X, new_m, P, strict=True)
    }
    expected |= dict(zip(M, new_m, strict=True))
    rule = sd.optimizers.adamw(
        LOSS,
        list(X),
        lr=eta,
        beta1=beta,
        weight_decay=omega,
        bias_correction=bias_correction,
        preconditioner=list(P),
        convention=convention,
        counter=k,
    )
    check(rule, expected, [eta, beta, omega])


def test_adagrad():
    """θ ← θ − η P⁻¹(∇L(θ) + ωθ), P = diag(√s + ε) frozen."""
    decayed = [g + omega * x for g, x in zip(G, X, strict=True)]
    expected = {x: x - eta * d / p for x, d, p in zip(X, decayed, P, strict=True)}
    rule = sd.optimizers.adagrad(LOSS, list(X), lr=eta, weight_decay=omega, preconditioner=list(P))
    check(rule, expected, [eta, omega])
    assert "Adagrad" in rule.name


def test_matrix_variables_take_the_matrix_gradient():
    """On θᵀHθ/2 − bᵀθ Polyak's heavy ball reads Hθ − b, and its buffer has θ's shape."""
    q = sd.quadratic("theta", n=3)
    rule = sd.optimizers.heavy_ball(q.loss, [q.theta], lr=eta, momentum=beta)
    v = sp.MatrixSymbol("v_theta", 3, 1)
    new_v = beta * v - eta * (q.H * q.theta - q.b)
    assert rule.state == (q.theta, v)
    for got, want in zip(rule.next_state, (q.theta + new_v, new_v), strict=True):
        assert sp.expand((got - want).as_explicit()) == sp.zeros(3, 1)


@pytest.mark.parametrize(
    "build",
    [
        lambda: sd.optimizers.heavy_ball(LOSS, list(X), eta, beta, convention="nesterov"),
        lambda: sd.optimizers.nesterov(LOSS, list(X), eta, beta, convention="polyak"),
        lambda: sd.optimizers.rmsprop(LOSS, list(X), eta, convention="ema"),
        lambda: sd.optimizers.adam(LOSS, list(X), eta, beta, convention="loshchilov"),
        lambda: sd.optimizers.adamw(LOSS, list(X), eta, beta, omega, convention="kingma"),
    ],
)
def test_an_unknown_convention_is_named_with_the_known_ones(build):
    with pytest.raises(sd.RuleError, match=r"unknown convention .*; use '"):
        build()


def test_variables_must_be_symbols():
    with pytest.raises(sd.RuleError, match="variables"):
        sd.optimizers.gd(LOSS, [x1 + x2], eta)
