"""The operators of training a recurrent model, matrix-free: Θ, Φ, K, P and P*.

For a :class:`~symdyn.operators.model.Recurrence` with trajectory h of shape
[B, T, H] and parameters θ of size M (Mehta et al., the K–P flow):

- Φ = (dh/dθ)(dh/dθ)ᵀ, the neural tangent operator on [B, T, H];
- K = (dF/dθ)(dF/dθ)ᵀ, the same for the step's output F(h_{t-1}, x_{t-1}, θ)
  with the states held at the trajectory: how parameters can move the velocity;
- P, the propagator δf ↦ δh solving δh_t = A_t δh_{t-1} + δf_t (δh_0 = 0,
  A_t = ∂F/∂h at step t), block lower-triangular in time and block-diagonal
  over the batch; P* its adjoint, the backward (BPTT) recursion;
- Θ = (dy/dθ)(dy/dθ)ᵀ, the classical NTK on the outputs y = readout(h, θ).

Since dh/dθ = P dF/dθ, Φ = P K P*. Every operator is a
``scipy.sparse.linalg.LinearOperator`` on flattened tensors whose matvec is a
few JVPs and VJPs of :mod:`symdyn.autodiff`; no matrix is formed.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from symdyn.errors import ShapeError

from .model import Recurrence

__all__ = ["K", "P", "TensorOperator", "ntk", "nto", "parameter_jacobian"]

# A Gram J Jᵀ builds its matrix at once (J by batched JVPs or jacrev) only
# while J has at most this many entries (32 MB in float64).
GRAM_ENTRIES = 2**22


class TensorOperator(LinearOperator):
    """A LinearOperator between tensor spaces, applied through functions.

    Parameters
    ----------
    matvec, rmatvec : callable
        Take and return arrays shaped ``in_shape`` / ``out_shape`` (and the
        reverse for ``rmatvec``).
    in_shape, out_shape : tuple of int
    symmetric : bool
        Whether the operator is symmetric positive semidefinite by
        construction (spectra then use Lanczos on eigenvalues).
    name : str
    dtype : numpy dtype
        float64, or float32 for a float32 model.
    dense : callable, optional
        Builds the matrix [out size, in size] at once (batched JVPs or a
        framework's ``jacrev``) for :meth:`to_matrix`; without it the matrix
        is one matvec per column.

    Examples
    --------
    >>> import numpy as np
    >>> op = TensorOperator(lambda v: 2 * v, lambda v: 2 * v, (2, 3), (2, 3), True, "2I")
    >>> op.shape, op.matvec(np.ones(6))[:2]
    ((6, 6), array([2., 2.]))
    """

    def __init__(
        self,
        matvec,
        rmatvec,
        in_shape,
        out_shape,
        symmetric=False,
        name="",
        dtype=np.float64,
        dense=None,
    ):
        self.dense = dense
        self.in_shape = tuple(in_shape)
        self.out_shape = tuple(out_shape)
        self.symmetric = symmetric
        self.name = name
        self._apply = matvec
        self._apply_adjoint = rmatvec
        super().__init__(np.dtype(dtype), (int(np.prod(out_shape)), int(np.prod(in_shape))))

    def _check(self, x, shape):
        x = np.asarray(x, dtype=self.dtype)
        if x.size != int(np.prod(shape)):
            raise ShapeError(
                f"{self.name}: got a vector of {x.size} entries, expected a tensor of "
                f"shape {shape} ({int(np.prod(shape))} entries)"
            )
        return x.reshape(shape)

    def _check_rows(self, x, shape):
        rows = np.shape(x)[0] if np.ndim(x) else 1
        if rows != int(np.prod(shape)):
            raise ShapeError(
                f"{self.name}: got {rows} rows, expected {int(np.prod(shape))} "
                f"(a tensor of shape {shape}, flattened)"
            )

    # scipy raises a bare ValueError on a length mismatch; say what was expected.
    def matvec(self, x):
        self._check_rows(x, self.in_shape)
        return super().matvec(x)

    def rmatvec(self, x):
        self._check_rows(x, self.out_shape)
        return super().rmatvec(x)

    def matmat(self, X):
        self._check_rows(X, self.in_shape)
        return super().matmat(X)

    def rmatmat(self, X):
        self._check_rows(X, self.out_shape)
        return super().rmatmat(X)

    def _matvec(self, x):
        return np.asarray(self._apply(self._check(x, self.in_shape))).reshape(-1)

    def _rmatvec(self, x):
        return np.asarray(self._apply_adjoint(self._check(x, self.out_shape))).reshape(-1)

    def _adjoint(self):
        return TensorOperator(
            self._apply_adjoint,
            self._apply,
            self.out_shape,
            self.in_shape,
            self.symmetric,
            f"{self.name}*",
            self.dtype,
            None if self.dense is None else lambda: self.dense().T,
        )

    def to_matrix(self):
        """The dense matrix [out size, in size]: at once where the operator knows how
        (``dense``), else one matvec per column."""
        if self.dense is not None:
            return np.asarray(self.dense(), dtype=self.dtype)
        return self @ np.eye(self.shape[1], dtype=self.dtype)

    # Algebra between TensorOperators keeps the tensor shapes (scipy's would drop them).
    def dot(self, x):
        if isinstance(x, TensorOperator):
            from .algebra import compose

            return compose(self, x)
        if np.isscalar(x):
            from .algebra import scale

            return scale(self, x)
        return super().dot(x)

    def __add__(self, other):
        if isinstance(other, TensorOperator):
            from .algebra import add

            return add(self, other)
        return super().__add__(other)

    def __rmul__(self, x):
        return self.dot(x) if np.isscalar(x) else super().__rmul__(x)

    def __neg__(self):
        return self.dot(-1.0)

    def __sub__(self, other):
        return self + (-other)

    def apply(self, tensor):
        """The operator applied to a tensor of shape ``in_shape``; returns ``out_shape``."""
        return self._matvec(tensor).reshape(self.out_shape)

    def __repr__(self):
        return f"<{self.name}: {self.in_shape} -> {self.out_shape}>"


def _checked_model(model, what):
    if not isinstance(model, Recurrence):
        raise ShapeError(f"{what}: expected a symdyn.operators.Recurrence, got {type(model)}")
    return model


def parameter_jacobian(model: Recurrence, of: str = "hidden") -> TensorOperator:
    """dz/dθ as an operator from parameters [M] to tensors, by JVP (and VJP for the adjoint).

    Parameters
    ----------
    model : Recurrence
    of : {"hidden", "velocity", "output"}
        z = the trajectory h, the velocity F along it, or the readout y.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> from symdyn.operators import Recurrence
    >>> model = Recurrence(lambda h, x, w: h * w[0] + x, [2.0], np.zeros((1, 1)),
    ...                    np.ones((1, 3, 1)))
    >>> parameter_jacobian(model).matvec(np.array([1.0]))    # h = 1, 3, 7: dh/dw = 0, 1, 5
    array([0., 1., 5.])
    """
    model = _checked_model(model, "parameter_jacobian")
    model.require_parameters(f"parameter_jacobian(of={of!r})")
    functions = {"hidden": model.unroll, "velocity": model.velocity, "output": model.outputs}
    if of not in functions:
        raise ShapeError(f"parameter_jacobian: of must be one of {sorted(functions)}, got {of!r}")
    f = functions[of]
    theta, backend = model.theta, model.backend
    out_shape = model.shape
    if of == "output":
        out_shape = tuple(np.shape(backend.evaluate(f, theta)))

    push, pull = backend.jvp_fn(f), backend.vjp_fn(f)

    def forward(v):
        return push(theta, v)

    def backward(u):
        return pull(theta, u)

    return TensorOperator(
        forward,
        backward,
        theta.shape,
        out_shape,
        False,
        f"d{of}/dθ",
        model.dtype,
        lambda: backend.jacobian(f, theta),
    )


def _gram(jac, name):
    """J Jᵀ as a symmetric operator on J's output space."""

    def forward(v):
        return jac._apply(jac._apply_adjoint(v))

    def dense():
        jacobian = jac.to_matrix()
        return jacobian @ jacobian.T

    # J itself must fit: only then is the Gram built at once
    cheap = jac.shape[0] * jac.shape[1] <= GRAM_ENTRIES
    return TensorOperator(
        forward,
        forward,
        jac.out_shape,
        jac.out_shape,
        True,
        name,
        jac.dtype,
        dense if cheap else None,
    )


def nto(model: Recurrence) -> TensorOperator:
    """Φ = (dh/dθ)(dh/dθ)ᵀ on [B, T, H]: one VJP and one JVP through the unrolled model.

    A gradient step δθ = −η (dh/dθ)ᵀ e moves the trajectory by −η Φ e to first order.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> from symdyn.operators import Recurrence
    >>> model = Recurrence(lambda h, x, w: ad.tanh(h @ w.reshape(2, 2)), np.eye(2).ravel(),
    ...                    np.ones((3, 2)), steps=4)
    >>> nto(model).shape
    (24, 24)
    """
    return _gram(parameter_jacobian(model, "hidden"), "Φ")


def K(model: Recurrence) -> TensorOperator:
    """K = (dF/dθ)(dF/dθ)ᵀ on [B, T, H], the states held at the trajectory.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> from symdyn.operators import Recurrence
    >>> model = Recurrence(lambda h, x, w: h + w, np.zeros(2), np.zeros((1, 2)), steps=3)
    >>> K(model).apply(np.ones((1, 3, 2)))[0]      # every step moves by the same δθ
    array([[3., 3.],
           [3., 3.],
           [3., 3.]])
    """
    return _gram(parameter_jacobian(model, "velocity"), "K")


def ntk(model: Recurrence) -> TensorOperator:
    """Θ = (dy/dθ)(dy/dθ)ᵀ, the neural tangent kernel on the outputs y = readout(h, θ).

    For scalar outputs at one time it is the classical [B, B] kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from symdyn.operators import Recurrence
    >>> X = np.array([[1.0, 2.0], [0.0, 1.0]])
    >>> linear = Recurrence(lambda h, x, w: (x @ w)[:, None], np.zeros(2), np.zeros((2, 1)),
    ...                     X[:, None, :])
    >>> ntk(linear) @ np.eye(2)                    # X Xᵀ
    array([[5., 2.],
           [2., 1.]])
    """
    return _gram(parameter_jacobian(model, "output"), "Θ")


def _state_maps(model):
    """δh ↦ A_t δh and μ ↦ A_tᵀ μ as backend maps of (h, v, argument(t)).

    The step's second argument is the time index (a static value) for a
    time-dependent model, else the inputs x_t, so that one map serves every t.
    """
    backend, step = model.backend, model.state_step
    static, argument = ((0,), int) if model.time_dependent else ((), model.input_at)
    return backend.jvp_fn(step, static), backend.vjp_fn(step, static), argument


def P(model: Recurrence) -> TensorOperator:
    """The propagator δf ↦ δh on [B, T, H], and (as ``.H``) its adjoint P*.

    δh_t = A_t δh_{t-1} + δf_t with δh_0 = 0 and A_t = ∂F/∂h at (h_{t-1},
    x_{t-1}): one JVP of the step per time. The adjoint runs the recursion
    backwards, μ_t = g_t + A_{t+1}ᵀ μ_{t+1}, one VJP per time: BPTT.
    Entry (t, s) of P is the state-transition matrix dh_t/dh_s (identity
    on the diagonal); P is block-diagonal over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from symdyn.operators import Recurrence
    >>> model = Recurrence(lambda h, x, w: 0.5 * h + w, np.zeros(1), np.zeros((1, 1)), steps=3)
    >>> P(model) @ np.eye(3)
    array([[1.  , 0.  , 0.  ],
           [0.5 , 1.  , 0.  ],
           [0.25, 0.5 , 1.  ]])
    """
    model = _checked_model(model, "P")
    previous = model.previous_states
    steps = model.steps
    push, pull, argument = _state_maps(model)

    def forward(df):
        dh = np.zeros(model.h0.shape, model.dtype)
        out = np.empty(model.shape, model.dtype)
        for t in range(steps):
            if t > 0:
                dh = push(previous[:, t], dh, argument(t))
            dh = dh + df[:, t]
            out[:, t] = dh
        return out

    def backward(g):
        mu = np.zeros(model.h0.shape, model.dtype)
        out = np.empty(model.shape, model.dtype)
        for t in reversed(range(steps)):
            if t < steps - 1:
                mu = pull(previous[:, t + 1], mu, argument(t + 1))
            mu = mu + g[:, t]
            out[:, t] = mu
        return out

    return TensorOperator(forward, backward, model.shape, model.shape, False, "P", model.dtype)
