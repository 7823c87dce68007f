"""Cost of symdyn.autodiff against hand-written NumPy, measured in one run.

Rows (targets from issue 6):

- gradient of a 2-layer MLP loss (batch 256, 784→512→10, tanh, softmax
  cross-entropy) against a hand-written NumPy backprop of the same network
  (target ≤ 1.5×);
- Hessian-vector product (forward over reverse) against one gradient of the
  same function (target ≤ 3×, issue 20): ``ad.hvp`` (the graph recorded for the
  product), each product of ``ad.hvp_at`` (the graph recorded once, as Lanczos
  uses it), and ``jvp(grad(f))``, which traces ``f`` again for every product;
- overhead on tiny scalar functions against evaluating the derivative by hand.

Each time is the best of several repeats. Run: ``python benchmarks/autodiff.py``.
"""

import math
import time

import numpy as np

import symdyn.autodiff as ad

BATCH, IN, HIDDEN, OUT = 256, 784, 512, 10
SHAPES = [(IN, HIDDEN), (HIDDEN,), (HIDDEN, OUT), (OUT,)]


def best_times(f, baseline, repeats=25, number=1):
    """Best time per call of ``f`` and of ``baseline``, run alternately.

    Alternating makes both see the same machine load; the minimum over
    repeats estimates the cost without interference.
    """
    best = [math.inf, math.inf]
    for _ in range(repeats):
        for k, g in enumerate((f, baseline)):
            start = time.perf_counter()
            for _ in range(number):
                g()
            best[k] = min(best[k], (time.perf_counter() - start) / number)
    return best


def mlp_loss(w1, b1, w2, b2, x, y):
    logits = ad.tanh(x @ w1 + b1) @ w2 + b2
    return -ad.sum(y * ad.log_softmax(logits)) / x.shape[0]


def mlp_backprop(w1, b1, w2, b2, x, y):
    """The same loss and its gradient, derived by hand."""
    h = np.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss = -np.sum(y * (shifted - np.log(total))) / x.shape[0]
    d_logits = (exp / total * y.sum(axis=1, keepdims=True) - y) / x.shape[0]
    d_h = (d_logits @ w2.T) * (1.0 - h * h)
    return loss, (x.T @ d_h, d_h.sum(axis=0), h.T @ d_logits, d_logits.sum(axis=0))


def flat_loss(x, y):
    def loss(theta):
        parts, start = [], 0
        for shape in SHAPES:
            n = int(np.prod(shape))
            parts.append(ad.reshape(theta[start : start + n], shape))
            start += n
        return mlp_loss(*parts, x, y)

    return loss


def main():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s) / np.sqrt(s[0]) for s in SHAPES]
    x = rng.standard_normal((BATCH, IN))
    y = np.eye(OUT)[rng.integers(0, OUT, BATCH)]

    value_and_grad = ad.value_and_grad(mlp_loss, argnum=(0, 1, 2, 3))
    value, grads = value_and_grad(*params, x, y)
    hand_value, hand_grads = mlp_backprop(*params, x, y)
    assert np.isclose(value, hand_value)
    assert all(np.allclose(g, h) for g, h in zip(grads, hand_grads, strict=True))

    t_grad, t_hand = best_times(
        lambda: value_and_grad(*params, x, y), lambda: mlp_backprop(*params, x, y)
    )

    loss = flat_loss(x, y)
    theta = np.concatenate([p.ravel() for p in params])
    v = rng.standard_normal(theta.shape)
    t_hvp, t_flat_grad = best_times(lambda: ad.hvp(loss, theta, v), lambda: ad.grad(loss)(theta))
    product = ad.hvp_at(loss, theta)
    t_reused, t_flat_grad_2 = best_times(lambda: product(v), lambda: ad.grad(loss)(theta))
    t_retraced, t_flat_grad_3 = best_times(
        lambda: ad.jvp(ad.grad(loss), theta, v)[1], lambda: ad.grad(loss)(theta)
    )
    np.testing.assert_allclose(product(v), ad.jvp(ad.grad(loss), theta, v)[1], rtol=1e-10)

    def tiny(x):
        return x * x + ad.sin(x)

    point = np.float64(0.7)
    t_tiny_grad, t_tiny_numpy = best_times(
        lambda: ad.grad(tiny)(0.7), lambda: 2.0 * point + np.cos(point), number=500
    )
    t_tiny_jvp, t_tiny_hand = best_times(
        lambda: ad.jvp(tiny, 0.7, 1.0), lambda: 2.0 * 0.7 + math.cos(0.7), number=500
    )

    rows = [
        ("MLP gradient (256, 784→512→10)", "hand-written NumPy backprop", t_grad, t_hand, "≤ 1.5"),
        ("MLP Hessian-vector product (hvp)", "MLP gradient (flat θ)", t_hvp, t_flat_grad, "≤ 3"),
        ("  one product of hvp_at", "MLP gradient (flat θ)", t_reused, t_flat_grad_2, "≤ 3"),
        ("  jvp(grad(f)), retraced", "MLP gradient (flat θ)", t_retraced, t_flat_grad_3, "—"),
        ("grad of x*x + sin(x), scalar", "2x + cos x in NumPy", t_tiny_grad, t_tiny_numpy, "—"),
        ("grad of x*x + sin(x), scalar", "2x + cos x in math", t_tiny_grad, t_tiny_hand, "—"),
        ("jvp of x*x + sin(x), scalar", "2x + cos x in math", t_tiny_jvp, t_tiny_hand, "—"),
    ]
    print(f"{'measured':34} {'time':>10}   {'baseline':30} {'time':>10} {'ratio':>8} target")
    for name, base, t, t_base, target in rows:
        print(f"{name:34} {_ms(t):>10}   {base:30} {_ms(t_base):>10} {t / t_base:7.2f}× {target}")


def _ms(seconds):
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-4 else f"{seconds * 1e6:.2f} µs"


if __name__ == "__main__":
    main()
