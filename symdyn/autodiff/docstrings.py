"""Docstrings of the primitives, kept apart so that primitives.py stays a table of rules.

Each entry becomes the ``__doc__`` of the primitive of that name, and
``__test__`` makes doctest run its example.
"""

DOCS = {
    "add": """Elementwise ``x + y`` with NumPy broadcasting (also ``x + y`` on tracers).

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.grad(lambda b: ad.sum(ad.add(np.ones((3, 2)), b)))(np.zeros(2))
    array([3., 3.])
    """,
    "subtract": """Elementwise ``x - y`` with broadcasting (also ``x - y`` on tracers).

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(lambda y: ad.subtract(1.0, y))(2.0))
    -1.0
    """,
    "multiply": """Elementwise ``x * y`` with broadcasting (also ``x * y`` on tracers).

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(lambda x: ad.multiply(x, x))(3.0))
    6.0
    """,
    "divide": """Elementwise ``x / y`` with broadcasting (also ``x / y`` and ``1 / x``).

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(lambda y: ad.divide(1.0, y))(2.0))
    -0.25
    """,
    "power": """Elementwise ``x ** y``; the derivative in ``y`` is taken as 0 where ``x <= 0``.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(lambda x: ad.power(x, 3.0))(2.0)), float(ad.grad(lambda y: 2.0**y)(0.0))
    (12.0, 0.6931471805599453)
    """,
    "negative": """Elementwise ``-x``.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(ad.negative)(5.0))
    -1.0
    """,
    "exp": """Elementwise exponential; its derivative reuses the result.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(ad.exp)(0.0))
    1.0
    """,
    "log": """Elementwise natural logarithm.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(ad.log)(4.0))
    0.25
    """,
    "sqrt": """Elementwise square root.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(ad.sqrt)(4.0))
    0.25
    """,
    "abs": """Elementwise absolute value; derivative ``sign(x)`` (0 at 0).

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.grad(lambda x: ad.sum(ad.abs(x)))(np.array([-2.0, 0.0, 3.0]))
    array([-1.,  0.,  1.])
    """,
    "sin": """Elementwise sine.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(ad.sin)(0.0))
    1.0
    """,
    "cos": """Elementwise cosine.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(ad.grad(ad.cos))(0.0))
    -1.0
    """,
    "tanh": """Elementwise hyperbolic tangent; derivative ``1 - tanh(x)**2`` from the result.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(ad.tanh)(0.0))
    1.0
    """,
    "sigmoid": """Elementwise logistic function ``1 / (1 + exp(-x))``, without overflow.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> float(ad.sigmoid(0.0)), float(ad.grad(ad.sigmoid)(0.0))
    (0.5, 0.25)
    """,
    "relu": """Elementwise ``max(x, 0)``; derivative 0 at 0.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.grad(lambda x: ad.sum(ad.relu(x)))(np.array([-1.0, 2.0]))
    array([0., 1.])
    """,
    "maximum": """Elementwise larger of ``x`` and ``y``; at ties each gets half the derivative.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.grad(lambda x: ad.sum(ad.maximum(x, 1.0)))(np.array([0.0, 1.0, 2.0]))
    array([0. , 0.5, 1. ])
    """,
    "minimum": """Elementwise smaller of ``x`` and ``y``; at ties each gets half the derivative.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.grad(lambda x: ad.sum(ad.minimum(x, 1.0)))(np.array([0.0, 2.0]))
    array([1., 0.])
    """,
    "matmul": """Matrix product ``a @ b`` with NumPy's rules for 1-D operands and batch axes.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> ad.grad(lambda x: ad.sum(ad.matmul(a, x)))(np.zeros(2))
    array([4., 6.])
    """,
    "sum": """Sum over ``axis`` (all axes by default), optionally keeping reduced axes.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.sum(np.ones((2, 3)), axis=1, keepdims=True).shape
    (2, 1)
    """,
    "max": """Largest element over ``axis``; ties share the derivative equally.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.grad(ad.max)(np.array([1.0, 3.0, 2.0]))
    array([0., 1., 0.])
    """,
    "min": """Smallest element over ``axis``; ties share the derivative equally.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.grad(lambda x: ad.min(x))(np.array([1.0, 1.0, 2.0]))
    array([0.5, 0.5, 0. ])
    """,
    "reshape": """``x`` with a new shape and the same elements (also ``x.reshape(...)``).

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.reshape(np.arange(6.0), (2, 3)).shape
    (2, 3)
    """,
    "broadcast_to": """``x`` broadcast to ``shape``; its derivative sums over the broadcast axes.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.grad(lambda x: ad.sum(ad.broadcast_to(x, (4, 2))))(np.zeros(2))
    array([4., 4.])
    """,
    "transpose": """``x`` with its axes permuted (reversed by default; also ``x.T``).

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.transpose(np.zeros((2, 3, 4)), (1, 2, 0)).shape
    (3, 4, 2)
    """,
}

__test__ = DOCS
