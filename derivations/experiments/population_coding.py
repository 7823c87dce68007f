"""Distributed credit assignment: a scalar encoded by a population of tuned units.

A stimulus s ∈ [−1, 1] is represented by N units with Gaussian tuning curves
r_i(s) = exp(−(s − c_i)²/(2σ_i²)), and a linear readout ŝ = Σ w_i r_i(s) is trained by
gradient descent (gradients by symdyn's autodiff) to decode s. The credit of unit i at a
step is ∂L/∂w_i, the signal gradient descent assigns to it; its share is
|∂L/∂w_i| / Σ_j |∂L/∂w_j|, checked against central finite differences of the loss. Over
training, the credit a unit received is the distance its weight travelled.

As N grows (1, 4, 16, 64) the credit spreads over more units (the participation ratio
1/Σ share² grows). Identical units are interchangeable, so by permutation symmetry each
gets the same credit at every step, bit for bit; randomly tuned units get unequal shares.
The readout's neural tangent kernel Θ(s, s') = Σ_i r_i(s) r_i(s'), computed matrix-free
with :mod:`symdyn.operators`, shows the same: one nonzero eigenvalue for identical units
(the population acts as one unit), a spread spectrum for random tuning.
"""

import sys
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
from scipy.sparse.linalg import eigsh

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import _gallery as gallery

import symdyn.autodiff as ad
from symdyn import operators as ops
from symdyn.derivation import Derivation

NAME = "population_coding"
SIZES = (1, 4, 16, 64)
STIMULI = np.linspace(-1.0, 1.0, 41)
STEPS = 300


def tuning(n, identical, seed=0):
    """Centres and widths of ``n`` units: all equal, or drawn at random."""
    if identical:
        return np.zeros(n), np.full(n, 0.5)
    rng = np.random.default_rng(seed + n)
    return rng.uniform(-1, 1, n), rng.uniform(0.15, 0.5, n)


def responses(centres, widths):
    """R[b, i] = r_i(s_b)."""
    return np.exp(-((STIMULI[:, None] - centres) ** 2) / (2 * widths**2))


def loss_of(R):
    return lambda w: ad.mean((R @ w - STIMULI) ** 2) / 2


def shares(credit):
    size = np.abs(credit)
    return size / size.sum()


def participation(share):
    return 1.0 / np.sum(share**2)


def check_credit(R, w):
    """∂L/∂w by autodiff, checked against central finite differences."""
    loss = loss_of(R)
    credit = ad.grad(loss)(w)
    eps = 1e-6
    fd = np.array([(loss(w + eps * e) - loss(w - eps * e)) / (2 * eps) for e in np.eye(len(w))])
    return credit, float(np.max(np.abs(credit - fd)))


def train(R):
    """GD from w = 0 with η = 1/λ_max(RᵀR/B); the credit (|Δw_i| summed) and the shares at
    each step."""
    hessian = R.T @ R / len(STIMULI)
    rate = 1.0 / np.linalg.eigvalsh(hessian)[-1]
    gradient = ad.grad(loss_of(R))
    w, travelled, history = np.zeros(R.shape[1]), np.zeros(R.shape[1]), []
    for _ in range(STEPS):
        g = gradient(w)
        history.append(shares(g))
        travelled += rate * np.abs(g)
        w = w - rate * g
    return w, travelled, np.array(history), float(loss_of(R)(w))


def ntk_spectrum(R, k):
    """Top-k eigenvalues of the readout's NTK, from symdyn.operators (matrix-free)."""
    model = ops.Recurrence(
        lambda h, x, w: (x @ w)[:, None], np.zeros(R.shape[1]), np.zeros((len(R), 1)), R[:, None]
    )
    values = eigsh(ops.ntk(model), k=k, which="LA", return_eigenvectors=False)
    return np.sort(values)[::-1]


def sweep():
    found = {}
    for n in SIZES:
        R = responses(*tuning(n, identical=False))
        credit, error = check_credit(R, np.zeros(n))
        gallery.claim(error < 1e-8, f"N = {n}: autodiff credit = finite differences ({error:.1e})")
        _, travelled, _, final = train(R)
        found[n] = (shares(credit), shares(travelled), final)
    ratios = [participation(found[n][1]) for n in SIZES]
    gallery.claim(ratios[0] == 1.0, "one unit takes all the credit")
    gallery.claim(
        all(a < b for a, b in pairwise(ratios)),
        "credit spreads as N grows: participation ratios " + ", ".join(f"{r:.2f}" for r in ratios),
    )
    return found, ratios


def symmetry(n=16):
    results = {}
    for identical in (True, False):
        R = responses(*tuning(n, identical))
        _, travelled, history, final = train(R)
        results[identical] = (history, shares(travelled), final, R)
    history = results[True][0]
    gallery.claim(
        np.all(history == history[:, :1]), f"identical units: equal credit at all {STEPS} steps"
    )
    spread = results[False][1].max() / results[False][1].min()
    gallery.claim(spread > 2, f"random tuning: shares unequal (max/min = {spread:.1f})")
    return results


def ntk_view(results, n=16, k=5):
    spectra = {}
    for identical, (_, _, _, R) in results.items():
        kind = "identical" if identical else "random"
        top = ntk_spectrum(R, k)
        exact = np.sort(np.linalg.eigvalsh(R @ R.T))[::-1][:k]
        gallery.claim(
            np.allclose(top, exact, rtol=1e-8, atol=1e-8 * exact[0]),
            f"NTK top eigenvalues by operators = eigenvalues of R Rᵀ ({kind})",
        )
        spectra[identical] = top
    same = spectra[True]
    gallery.claim(same[1] < 1e-8 * same[0], "identical units: the NTK has rank one")
    r = results[True][3][:, 0]
    gallery.claim(np.isclose(same[0], n * r @ r), "its eigenvalue is N ‖r‖²")
    gallery.claim(
        spectra[False][k - 1] > 1e-3 * spectra[False][0], "random tuning: a spread spectrum"
    )
    return spectra


def plot(found, ratios, results, spectra):
    fig, axes = gallery.figure(ncols=2, nrows=2, size=(10, 7.5))
    curves, spread, symmetric, kernel = axes
    centres, widths = tuning(16, identical=False)
    fine = np.linspace(-1, 1, 200)
    for c, s in zip(centres, widths, strict=True):
        curves.plot(fine, np.exp(-((fine - c) ** 2) / (2 * s**2)), lw=0.8)
    curves.set_title("16 randomly tuned units")
    curves.set_xlabel("stimulus $s$")
    curves.set_ylabel("rate $r_i(s)$")
    for n in SIZES:
        share = np.sort(found[n][1])[::-1]
        spread.plot(np.arange(1, n + 1), share, "o-", ms=3, label=f"N = {n}")
    spread.set_xscale("log")
    spread.set_yscale("log")
    spread.set_xlabel("unit, by credit received")
    spread.set_ylabel("share of credit")
    spread.set_title("participation " + ", ".join(f"{r:.1f}" for r in ratios))
    spread.legend(fontsize=8)
    for identical, style in ((True, "-"), (False, "--")):
        history = results[identical][0]
        label = "identical" if identical else "random"
        symmetric.plot(history.max(axis=1), style, label=f"{label}: largest share")
        symmetric.plot(history.min(axis=1), style, label=f"{label}: smallest share")
    symmetric.set_yscale("log")
    symmetric.set_xlabel("step")
    symmetric.set_title("credit shares over training, N = 16")
    symmetric.legend(fontsize=7)
    for identical, marker in ((True, "o"), (False, "s")):
        values = np.maximum(spectra[identical], 1e-16)
        kernel.semilogy(
            np.arange(1, len(values) + 1),
            values,
            marker + "-",
            label="identical" if identical else "random",
        )
    kernel.set_xlabel("index")
    kernel.set_ylabel("NTK eigenvalue")
    kernel.set_title("readout NTK, N = 16")
    kernel.legend(fontsize=8)
    return gallery.save_figure(fig, NAME)


def main():
    started = time.perf_counter()
    print("credit assignment in a population code")
    found, ratios = sweep()
    results = symmetry()
    spectra = ntk_view(results)
    figure_path = plot(found, ratios, results, spectra)
    report = (
        Derivation("Credit assignment in a population code")
        .then(
            "A stimulus $s$ is encoded by $N$ units with Gaussian tuning curves "
            "$r_i(s) = e^{-(s - c_i)^2/(2\\sigma_i^2)}$ and decoded by "
            "$\\hat s = \\sum_i w_i r_i(s)$, "
            f"trained by gradient descent on the mean squared error over {len(STIMULI)} "
            "stimuli. The credit of unit $i$ is $\\partial L/\\partial w_i$ (autodiff, checked "
            "against finite differences); over training, the distance its weight travels."
        )
        .then(
            "With random tuning the credit spreads as the population grows: the participation "
            "ratio $1/\\sum_i p_i^2$ of the shares $p_i$ is "
            + ", ".join(f"{r:.2f} for $N = {n}$" for r, n in zip(ratios, SIZES, strict=True))
            + "; the final losses are "
            + ", ".join(f"{found[n][2]:.1e}" for n in SIZES)
            + "."
        )
        .then(
            "Identical units are interchangeable: the gradient is symmetric under permuting "
            "them, so they receive equal credit at every step, bit for bit, and the readout "
            "trains as if the population were one unit. Its neural tangent kernel "
            "$\\Theta(s, s') = \\sum_i r_i(s) r_i(s')$ then has rank one, with eigenvalue "
            f"$N\\|r\\|^2 = {spectra[True][0]:.2f}$; random tuning spreads it "
            f"({', '.join(f'{v:.2f}' for v in spectra[False])} for $N = 16$)."
        )
    )
    gallery.save(report, NAME, figures=[figure_path])
    print(f"  {NAME} ran in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
