"""Recurrence.from_jax: every operator against jax.jacfwd dense Jacobians, in float64."""

import numpy as np

from symdyn import operators as ops
from tests.operators.dense_references import check_model
from tests.optional import require_module

jax = require_module("jax")
jnp = jax.numpy

B, T, H, I = 2, 3, 3, 2


def step(h, x, p):
    """A gated cell, θ a pytree: z = σ(h Wz), h' = (1 − z) h + z tanh(h W + x U + b)."""
    z = jax.nn.sigmoid(h @ p["Wz"])
    return (1 - z) * h + z * jnp.tanh(h @ p["W"] + x @ p["U"] + p["b"])


def test_a_jax_cell_matches_dense_jacobians_in_float64():
    rng = np.random.default_rng(3)
    theta = {
        "W": 0.7 * rng.standard_normal((H, H)),
        "Wz": rng.standard_normal((H, H)),
        "U": rng.standard_normal((I, H)),
        "b": 0.1 * rng.standard_normal(H),
    }
    W_out, target = rng.standard_normal((H, 2)), rng.standard_normal((B, T, 2))
    h0, inputs = 0.3 * rng.standard_normal((B, H)), rng.standard_normal((B, T, I))
    model = ops.Recurrence.from_jax(step, theta, h0, inputs, readout=lambda h, p: h @ W_out)
    assert model.dtype == np.float64
    with jax.enable_x64(True):
        flat, unravel = jax.flatten_util.ravel_pytree(theta)
        previous = jnp.asarray(model.previous_states)

        def unroll(theta, e=0.0):
            h, out = jnp.asarray(h0), []
            for t in range(T):
                h = step(h, inputs[:, t], unravel(theta)) + (e[:, t] if np.ndim(e) else 0.0)
                out.append(h)
            return jnp.stack(out, axis=1)

        def velocity(theta):
            states = [step(previous[:, t], inputs[:, t], unravel(theta)) for t in range(T)]
            return jnp.stack(states, axis=1)

        def loss_of_theta(theta):
            return jnp.mean((unroll(theta) @ W_out - target) ** 2)

        @jax.jit
        def references(flat):  # one compiled graph: eager JAX compiles every operation
            return dict(
                J_h=jax.jacfwd(unroll)(flat),
                J_F=jax.jacfwd(velocity)(flat),
                J_e=jax.jacfwd(lambda e: unroll(flat, e))(jnp.zeros(model.shape)),
                J_y=jax.jacfwd(lambda th: unroll(th) @ W_out)(flat),
                hessian=jax.hessian(loss_of_theta)(flat),
                trajectory=unroll(flat),
            )

        refs = {name: np.asarray(value) for name, value in references(flat).items()}
    np.testing.assert_allclose(model.trajectory, refs.pop("trajectory"), atol=1e-15)
    check_model(model, loss=lambda y: jnp.mean((y - target) ** 2), **refs)


def test_float32_leaves_give_a_float32_model():
    rng = np.random.default_rng(4)
    theta = {
        "W": rng.standard_normal((H, H)).astype(np.float32),
        "Wz": np.zeros((H, H), np.float32),
        "U": np.ones((I, H), np.float32),
        "b": np.zeros(H, np.float32),
    }
    model = ops.Recurrence.from_jax(step, theta, np.zeros((B, H)), np.ones((B, T, I)))
    Phi = ops.nto(model)
    assert model.dtype == np.float32 and (Phi @ np.ones(model.size)).dtype == np.float32
