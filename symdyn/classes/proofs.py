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


def _augmented_names(system, lmi):
    """The LaTeX names of the entries of ξ̂ = (ξ, ζ)."""
    calls = lmi.basis.rows - len(system.state)
    filters = ["\\zeta"] if calls == 1 else [f"\\zeta_{{{j + 1}}}" for j in range(calls)]
    return [latex(symbol) for symbol in system.state] + filters


def _reached(system, lmi):
    """The step that restricts V to the states reached after one step (when it does)."""
    if not lmi.reduced:
        return Derivation("")
    names = _augmented_names(system, lmi)
    z = ", ".join(names[j] for j in lmi.kept)
    return Derivation("").then(
        "After one step the augmented state lies in the column space of $[\\hat A\\; "
        "\\hat B]$, which is smaller than the whole space: for every $k \\ge 1$, "
        f"$\\hat\\xi_k - \\hat\\xi^\\star = T (z_k - z^\\star)$ with $z = ({z})$ and",
        TeX(f"T = {latex(lmi.basis)}"),
    )


def _lmi_steps(system, lmi, found):
    names = ", ".join(
        f"\\lambda_{{\\mathrm{{{n.replace('_', ' ')}}}}} = {latex(v)}"
        for n, v in found["multipliers"].items()
    )
    variable = "z" if lmi.reduced else "\\hat\\xi"
    derivation = _reached(system, lmi).then(
        f"Take the Lyapunov function $V({variable}) = ({variable} - {variable}^\\star)^T P "
        f"({variable} - {variable}^\\star)$"
        + ("" if lmi.reduced else " on $\\hat\\xi = (\\xi, \\zeta)$")
        + f", the multipliers ${names}$ and",
        _matrix_display("P", found["lyapunov"]),
    )
    rho2 = latex(lmi.rate**2)
    return derivation.then(
        f"In the coordinates $({variable}_k - {variable}^\\star, u_k)$, "
        f"$V({variable}_{{k+1}}) - {rho2} V({variable}_k)$ plus the multipliers times the "
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
    v = "z" if lmi.reduced else "\\hat\\xi"
    first = 1 if lmi.reduced else 0
    since = " for $k \\ge 1$" if lmi.reduced else ""
    if all(value == 0 for value in offs):
        conclusion = TeX(f"V({v}_{{k+1}}) \\le {rho2}\\, V({v}_k)")
        text = f"Each IQC term is nonnegative, so along every trajectory{since}"
        decay = f"V({v}_k) \\le \\rho^{{2(k - {first})}} V({v}_{first})" if first else ""
    else:
        conclusion = TeX(
            f"V({v}_{{k+1}}) + \\nu G_k \\le {rho2} \\left(V({v}_k) + \\nu G_{{k-1}}\\right)"
        )
        text = (
            "Each sector term is nonnegative and the off-by-one term is at least "
            f"$\\nu(G_k - {rho2} G_{{k-1}})$ ($\\nu$ its multiplier), so $W = V + \\nu G$ "
            f"contracts{since}"
        )
        decay = (
            f"V({v}_k) \\le W_k \\le \\rho^{{2(k - {first})}} W_{first}"
            if first
            else (f"V({v}_k) \\le W_k \\le \\rho^{{2k}} W_0 = \\rho^{{2k}} V({v}_0)")
        )
    derivation = derivation.then(text, conclusion)
    if decay:
        lead = "Hence" if all(value == 0 for value in offs) else "As $G \\ge 0$,"
        derivation = derivation.then(lead, TeX(decay))
    start = (
        "$W_1$ is at most a constant times $\\|\\xi_0 - \\xi^\\star\\|^2$ (one step, "
        "with $\\nabla f$ Lipschitz), so "
        if lmi.reduced
        else ""
    )
    return derivation.then(
        f"Hence, {start}$\\|\\xi_k - \\xi^\\star\\| \\le c\\, \\rho^k "
        "\\|\\xi_0 - \\xi^\\star\\|$ for every $f$ in the class and every dimension, with "
        "$c$ depending on $P$" + (", $T$ and $L$" if lmi.reduced else "") + " only."
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
    return derivation + _lmi_steps(system, lmi, found) + _verdict(found, lmi)


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
