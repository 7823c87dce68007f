"""The derivations of rate certificates, written as the proof a paper would give."""

from __future__ import annotations

import sympy as sp

from symdyn.derivation import Derivation, TeX, latex
from symdyn.errors import SymdynError
from symdyn.escaping import plain

__all__ = ["quadratic_proof", "rate_proof"]


WIDE = 240
"""LaTeX length past which a matrix is shown entry by entry (a line of a page)."""


def _matrix_display(name, matrix):
    """``name = matrix`` as one display, or entry by entry (upper triangle) when too wide."""
    whole = f"{name} = {latex(matrix)}"
    if len(whole) <= WIDE:
        return TeX(whole)
    return tuple(
        TeX(f"{name}_{{{i + 1}{j + 1}}} = {latex(matrix[i, j])}")
        for i in range(matrix.rows)
        for j in range(i, matrix.cols)
    )


def _opening(system, function_class, rate_text):
    derivation = Derivation(f"A rate certificate for {plain(system.rule.name)}")
    derivation = derivation + system.derivation
    e = system.fixed_direction
    return derivation.then(
        f"Suppose {function_class.describe()}, with minimiser $x^\\star$, and "
        f"$\\rho = {rate_text}$. "
        "The fixed point with every gradient call at the minimiser is "
        "$\\xi^\\star = e \\otimes x^\\star$, $y^\\star = x^\\star$, $u^\\star = 0$, where",
        TeX(f"e = {latex(e)}, \\quad A e = e, \\quad C e = \\mathbf{{1}}"),
    )


def _iqcs(function_class, rate):
    mu, big = latex(function_class.mu), latex(function_class.L)
    rho2 = latex(rate**2)
    derivation = Derivation("").then(
        f"At each gradient call write $p = u - {mu}(y - y^\\star)$ and "
        f"$q = {big}(y - y^\\star) - u$. The function $g = f - \\frac{{{mu}}}{{2}}"
        f"\\|\\cdot - y^\\star\\|^2$ is convex and $({big} - {mu})$-smooth with gradient $p$, "
        "so its interpolation inequality (Taylor, Hendrickx and Glineur 2017) between any "
        "two points $i, j$ reads, with $G = (L - \\mu)(g - g^\\star) - \\|p\\|^2/2$,",
        TeX("G_i - G_j \\ge p_j^T (q_i - q_j)"),
    )
    derivation = derivation.then(
        "Between $y_k$ and $y^\\star$, in both directions, $0 \\le G_k \\le p_k^T q_k$, "
        "which gives the sector IQC (Lessard, Recht and Packard 2016, Lemma 6)",
        TeX("p_k^T q_k \\ge 0"),
    )
    return derivation.then(
        f"Between $y_k$ and $y_{{k-1}}$, weighted by $\\rho^2 = {rho2}$, plus $1 - \\rho^2$ "
        "times the one between $y_k$ and $y^\\star$, it gives the weighted off-by-one IQC "
        "(ibid., Lemma 10); the filter state $\\zeta_k = q_{k-1}/L$ joins the state, with "
        "$y_{-1} = x^\\star$ so that $\\zeta_0 = \\zeta^\\star$ and $G_{-1} = 0$",
        TeX(f"p_k^T (q_k - {rho2} L\\, \\zeta_k) \\ge G_k - {rho2}\\, G_{{k-1}}"),
    )


def _lmi_steps(lmi, found):
    names = ", ".join(
        f"\\lambda_{{\\mathrm{{{n.replace('_', ' ')}}}}} = {latex(v)}"
        for n, v in found["multipliers"].items()
    )
    derivation = Derivation("").then(
        "Take the Lyapunov function $V(\\hat\\xi) = (\\hat\\xi - \\hat\\xi^\\star)^T P "
        "(\\hat\\xi - \\hat\\xi^\\star)$ on $\\hat\\xi = (\\xi, \\zeta)$, the multipliers "
        f"${names}$ and",
        _matrix_display("P", found["lyapunov"]),
    )
    rho2 = latex(lmi.rate**2)
    return derivation.then(
        "In the coordinates $(\\hat\\xi_k - \\hat\\xi^\\star, u_k)$, "
        f"$V(\\hat\\xi_{{k+1}}) - {rho2} V(\\hat\\xi_k)$ plus the multipliers times the "
        "left sides of the IQCs is the quadratic form of the exact matrix",
        _matrix_display("M", found["lmi"]),
    )


def _verdict(found, lmi):
    rho2 = latex(lmi.rate**2)
    if not found["verified"]:
        return Derivation("").then(
            f"The exact check fails: {found['reason']}. No rate is claimed: a numeric "
            "solution that fails the exact check is undecided, never a certificate."
        )
    pivots = tuple(TeX(f"d_{{{k + 1}}} = {latex(p)}") for k, p in enumerate(found["pivots"]))
    offs = [v for n, v in found["multipliers"].items() if n.startswith("off_by_one")]
    derivation = (
        Derivation("")
        .then(
            "Exact LDL$^T$ elimination over the rationals decides both inequalities: every pivot "
            "of $P$ is positive, every multiplier is nonnegative, and the pivots of $-M$,",
            pivots,
        )
        .then(
            "are all nonnegative (a zero pivot comes with a zero row), so",
            TeX("P \\succ 0, \\qquad M \\preceq 0"),
        )
    )
    if all(v == 0 for v in offs):
        conclusion = TeX(f"V(\\xi_{{k+1}}) \\le {rho2}\\, V(\\xi_k)")
        text = "Each IQC term is nonnegative, so along every trajectory"
    else:
        conclusion = TeX(
            f"V(\\hat\\xi_{{k+1}}) + \\nu G_k \\le {rho2} \\left(V(\\hat\\xi_k) + \\nu G_{{k-1}}"
            "\\right)"
        )
        text = (
            "Each sector term is nonnegative and the off-by-one term is at least "
            f"$\\nu(G_k - {rho2} G_{{k-1}})$ ($\\nu$ its multiplier), so $W = V + \\nu G$ "
            "contracts; as $G \\ge 0$, $V(\\hat\\xi_k) \\le W_k \\le \\rho^{2k} W_0 = "
            "\\rho^{2k} V(\\hat\\xi_0)$"
        )
    derivation = derivation.then(text, conclusion)
    return derivation.then(
        "Hence $\\|\\xi_k - \\xi^\\star\\| \\le \\sqrt{\\mathrm{cond}(P)}\\, \\rho^k "
        "\\|\\hat\\xi_0 - \\hat\\xi^\\star\\|$ for every $f$ in the class and every dimension."
    )


def _no_rate_below_one(system, function_class):
    from symdyn.classes.spectral import spectral_rate

    try:
        quadratic = spectral_rate(system, function_class).rate
    except SymdynError:
        return Derivation("").then("Not even $\\rho = 1$ could be certified.")
    return (
        Derivation("")
        .then(
            "Not even $\\rho = 1$ could be certified, while on quadratics with spectrum in the "
            "same interval the exact worst-case rate is",
            sp.Eq(sp.Symbol(r"\rho_{\mathrm{quad}}"), quadratic),
        )
        .then(
            "These IQCs hold for every function of the class, so when they certify nothing the "
            "class may hold a non-quadratic function on which the method does not converge. "
            "This is what happens to heavy ball at Polyak's tuning: Lessard, Recht and "
            "Packard (2016, Section 4.6) give an $f \\in \\mathcal{S}(1, 25)$ on which it "
            "cycles, so no sound certificate below 1 can exist."
        )
    )


def rate_proof(system, function_class, lmi, found, bracket=None):
    """The derivation of an IQC certificate (or of its failure)."""
    derivation = _opening(system, function_class, latex(lmi.rate))
    if bracket is not None:
        low, high = bracket
        if found["verified"]:
            derivation = derivation.then(
                f"Bisection over dyadic rates: $\\rho = {latex(high)}$ is verified, "
                f"$\\rho = {latex(low)}$ is not."
            )
        else:
            return derivation + _no_rate_below_one(system, function_class)
    if not found["lyapunov"].rows:
        return derivation.then(f"{found['reason']}; no rate is claimed.")
    derivation = derivation + _iqcs(function_class, lmi.rate)
    return derivation + _lmi_steps(lmi, found) + _verdict(found, lmi)


def quadratic_proof(system, function_class, rate, worst, verified):
    """The derivation on :class:`Quadratics`: the exact spectral worst case."""
    derivation = _opening(system, function_class, latex(rate))
    derivation = derivation.then(
        "On a quadratic the gradient is $u = H(y - x^\\star)$, so each eigenvalue "
        "$\\lambda$ of $H$ evolves by $A + \\lambda B C$."
    )
    derivation = derivation + worst.derivation
    relation = "\\le" if verified else ">"
    return derivation.then(
        "Compared with the rate claimed",
        TeX(f"{latex(worst.rate)} {relation} {latex(rate)}"),
    )
