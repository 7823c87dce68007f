"""Check every operator of a framework model against dense Jacobians the framework computes.

A test hands over the reference Jacobians, each computed by the framework's own dense
routine (``torch.autograd.functional.jacobian``, ``jax.jacfwd``) on a model written
independently of the operator code: the trajectory, the velocity, the perturbed unroll
(dh/de is the propagator), the outputs, and the Hessian of a training loss.
"""

import numpy as np

from symdyn import operators as ops

TOL = 1e-12


def close(actual, expected, tol=TOL):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = max(1.0, float(np.abs(expected).max()))
    error = float(np.abs(actual - expected).max())
    assert error <= tol * scale, f"max error {error:.3g} (scale {scale:.3g})"


PROBES = np.random.default_rng(0).standard_normal((4096, 2))


def probed(op, dense):
    """op and its dense reference on the same two random vectors (matvecs, not the matrix)."""
    probes = PROBES[: op.shape[1]].astype(op.dtype)
    return op @ probes, dense @ probes


def time_average(dense, shape):
    """⟨op⟩ over time from the dense matrix: (1/T) Σ_{t,t'} op[b,t,h; b',t',h']."""
    batch, steps, hidden = shape
    blocks = dense.reshape(batch, steps, hidden, batch, steps, hidden)
    return blocks.sum(axis=(1, 4)).reshape(batch * hidden, batch * hidden) / steps


def check_model(model, J_h, J_F, J_e, J_y, loss, hessian, tol=TOL):
    """Θ, Φ, K, P, P*, their dense forms, averaged views, spectra and sharpness."""
    n, m = model.size, model.theta.size
    J_h, J_F, J_y = (np.reshape(J, (-1, m)) for J in (J_h, J_F, J_y))
    J_e = np.reshape(J_e, (n, n))
    Phi, K, P, Theta = ops.nto(model), ops.K(model), ops.P(model), ops.ntk(model)
    references = {Phi: J_h @ J_h.T, K: J_F @ J_F.T, Theta: J_y @ J_y.T, P: J_e}
    for op, reference in references.items():
        close(*probed(op, reference), tol)
        close(op.to_matrix(), reference, tol)
    close(*probed(P.H, J_e.T), tol)
    close(*probed(ops.parameter_jacobian(model, "velocity"), J_F), tol)
    close(*probed(P @ K @ P.H, references[Phi]), tol)
    for op in (Phi, K):
        averaged = time_average(references[op], model.shape)
        close(*probed(ops.average(op, over="time"), averaged), tol)
    eigenvalues = np.linalg.eigvalsh(references[Phi])[::-1]
    top = ops.svd(Phi, k=3).values
    close(top, eigenvalues[:3], tol)
    close(ops.effective_rank(top), ops.effective_rank(eigenvalues[:3]), tol)
    close(ops.sharpness(loss, model, k=2), np.linalg.eigvalsh(hessian)[::-1][:2], tol)
