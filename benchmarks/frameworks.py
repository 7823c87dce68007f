"""Extracting and analysing optax.adam, against analysing the hand-written catalogue rule.

After ``import optax`` and ``import torch`` (not timed) and one plain torch.optim step
(torch imports more of itself on its first step; timed and printed apart), one run times:

- the baseline: ``sd.optimizers.adam`` (the catalogue's frozen Adam) through
  ``sd.stability`` and ``sd.step_bound``;
- the extraction: ``sd.from_optax(optax.adam, ...)`` (make_jaxpr of init and update,
  the jaxpr read as sympy), the frozen late rule, then the same analysis;
- the same for ``sd.from_torch(torch.optim.Adam, ...)``.

It prints each time, its ratio to the baseline, and whether the step bounds agree.
The issue's target: the optax extraction plus analysis under 3 s.

Run: ``.venv/bin/python benchmarks/frameworks.py``
"""

import time

import optax
import sympy as sp
import torch

import symdyn as sd
from symdyn.catalogue.named import QUADRATIC, lam, x
from symdyn.frameworks.preconditioner import freeze_preconditioner

eta, beta1, beta2, eps = sp.symbols("eta beta1 beta2 epsilon", positive=True)
p = sp.Symbol("p_x", positive=True)
EXPECTED = 2 * p * (1 + beta1) / (lam * (1 - beta1))


def timed(work):
    start = time.perf_counter()
    bound = work()
    return time.perf_counter() - start, bound


def catalogue():
    rule = sd.optimizers.adam(QUADRATIC, [x], eta, beta1)
    return sd.step_bound(sd.stability(rule), step=eta).upper


def from_optax():
    rule = sd.from_optax(optax.adam, learning_rate=eta, b1=beta1, b2=beta2, eps=eps)
    frozen = freeze_preconditioner(rule, asymptotic=True).rule
    return sd.step_bound(sd.stability(frozen), step=eta).upper


def from_torch():
    rule = sd.from_torch(torch.optim.Adam, lr=eta, betas=(beta1, beta2), eps=eps)
    frozen = freeze_preconditioner(rule, asymptotic=True).rule
    return sd.step_bound(sd.stability(frozen), step=eta).upper


def warm_torch():
    """One plain step of torch.optim: its first step imports more of torch (seconds)."""
    tensor = torch.ones((), requires_grad=True)
    tensor.grad = torch.ones(())
    torch.optim.SGD([tensor], lr=0.1).step()


def main():
    seconds, _ = timed(warm_torch)
    print(f"torch.optim's first plain step (lazy imports inside torch): {seconds:.3f} s")
    base, bound = timed(catalogue)
    print(f"catalogue adam, stability + step bound: {base:.3f} s  (bound {bound})")
    for name, work in (("optax.adam", from_optax), ("torch.optim.Adam", from_torch)):
        seconds, found = timed(work)
        agree = sp.simplify(found - EXPECTED) == 0
        print(
            f"{name:>16}: extract + freeze + analyse {seconds:.3f} s = {seconds / base:.1f}x "
            f"the catalogue rule; bound agrees: {agree}; under 3 s: {seconds < 3}"
        )


if __name__ == "__main__":
    main()
