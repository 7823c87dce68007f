"""The operators of training, matrix-free: NTK, Φ, K and P; spectra; Lyapunov exponents; sharpness.

Import as ``from symdyn import operators as ops``. A model is a
:class:`Recurrence` (a batched step h_t = F(h_{t-1}, x_{t-1}, θ) written
with :mod:`symdyn.autodiff`, or a PyTorch / JAX model through
:meth:`Recurrence.from_torch` and :meth:`Recurrence.from_jax`); :func:`ntk`,
:func:`nto`, :func:`K` and :func:`P` give ``scipy.sparse.linalg.LinearOperator``s on its [B, T, H]
trajectory tensors whose matvecs are JVPs and VJPs.

Examples
--------
>>> import numpy as np
>>> import symdyn.autodiff as ad
>>> from symdyn import operators as ops
>>> rng = np.random.default_rng(0)
>>> H = 3
>>> step = lambda h, x, w: ad.tanh(h @ w.reshape(H, H) + x)
>>> model = ops.Recurrence(step, 0.5 * rng.standard_normal(H * H), np.zeros((2, H)),
...                        rng.standard_normal((2, 4, H)))
>>> Phi, Kop, Pop = ops.nto(model), ops.K(model), ops.P(model)
>>> v = rng.standard_normal(model.size)
>>> bool(np.allclose(Phi @ v, Pop @ (Kop @ (Pop.H @ v))))
True
"""

from . import plot
from .algebra import (
    Alignment,
    Comparison,
    add,
    adjoint,
    alignment,
    compare,
    compose,
    kernel_alignment,
    scale,
    symmetric_part,
)
from .dynamics import finite_time_lyapunov, gradient_norms, lyapunov_spectrum
from .model import NoParametersError, OperatorError, Recurrence, SpectrumSizeError
from .rules import from_rule
from .sharpness import hessian_operator, sharpness, training_loss
from .spectra import SVDResult, TraceEstimate, average, effective_rank, svd, trace
from .symbolic import GradientThroughTime, gradient_through_time
from .tangent import K, P, TensorOperator, ntk, nto, parameter_jacobian
from .tracking import MEASURES, Tracking, track

__all__ = [
    "MEASURES",
    "Alignment",
    "Comparison",
    "GradientThroughTime",
    "K",
    "NoParametersError",
    "OperatorError",
    "P",
    "Recurrence",
    "SVDResult",
    "SpectrumSizeError",
    "TensorOperator",
    "TraceEstimate",
    "Tracking",
    "add",
    "adjoint",
    "alignment",
    "average",
    "compare",
    "compose",
    "effective_rank",
    "finite_time_lyapunov",
    "from_rule",
    "gradient_norms",
    "gradient_through_time",
    "hessian_operator",
    "kernel_alignment",
    "lyapunov_spectrum",
    "ntk",
    "nto",
    "parameter_jacobian",
    "plot",
    "scale",
    "sharpness",
    "svd",
    "symmetric_part",
    "trace",
    "track",
    "training_loss",
]
