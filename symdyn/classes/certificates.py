"""Rate certificates over function classes, verified in exact arithmetic.

:func:`certify_rate` asks an SDP solver (cvxpy) for a Lyapunov matrix P and IQC
multipliers proving ``rate`` for a method on every f of a class
(:mod:`symdyn.classes.iqc`), rounds them to rationals and checks the LMI exactly by LDLᵀ
pivots (:mod:`symdyn.classes.exact`). Only that exact check makes ``.verified`` true;
a solver's answer that fails it is reported as undecided. On :class:`Quadratics` the
rate is decided exactly by the spectrum (:func:`symdyn.worst_case_rate`).

References
----------
Lessard, Recht & Packard, "Analysis and design of optimization algorithms via integral
quadratic constraints", SIAM J. Optim. 26 (2016). Taylor, Hendrickx & Glineur, "Smooth
strongly convex interpolation and exact worst-case performance of first-order methods",
Math. Program. 161 (2017).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded, phase
from symdyn.classes.exact import semidefinite
from symdyn.classes.function_classes import FunctionClass
from symdyn.classes.iqc import lmi_of
from symdyn.classes.linear_system import LinearSystem, linear_system
from symdyn.classes.proofs import quadratic_proof, rate_proof
from symdyn.classes.sdp import DENOMINATORS, Proposer, rationalised
from symdyn.derivation import Presented
from symdyn.errors import ArgumentError, FunctionClassError
from symdyn.frozen import FrozenMapping, freeze_fields
from symdyn.rules.rule import UpdateRule
from symdyn.rules.signs import sign_of
from symdyn.rules.values import exact_number

__all__ = ["RateCertificate", "best_certified_rate", "certify_rate", "verify"]


@dataclass(frozen=True)
class RateCertificate(Presented):
    """A proof (or the failure to find one) that a method converges at a rate on a class.

    Attributes
    ----------
    rule : UpdateRule
    system : LinearSystem
        The rule's matrices (A, B, C) at the parameters.
    function_class : FunctionClass
    rate : sympy.Expr
        ρ: exact, rational except on :class:`Quadratics`.
    verified : bool
        True only when the exact check passed: then |ξ_k − ξ*| ≤ c ρᵏ for every f.
    lyapunov : sympy.ImmutableMatrix
        The exact P of V = (z − z*)ᵀP(z − z*) (the candidate, when not verified; empty on
        :class:`Quadratics` and when the solver found nothing).
    basis : sympy.ImmutableMatrix
        T, with ξ̂ − ξ̂* = T(z − z*) for the augmented states ξ̂ = (ξ, ζ) reached after one
        step; T has the rows of the identity at ``kept``, so z = ξ̂[kept]. T is the
        identity, and z = ξ̂, unless the filter states are then fixed combinations of ξ
        (triple momentum; Nesterov and gradient descent at η = 1/L).
    kept : tuple of int
        The entries of ξ̂ that make up z.
    multipliers : FrozenMapping
        IQC name → its exact nonnegative multiplier.
    lmi : sympy.ImmutableMatrix
        The exact matrix M(P, multipliers) of the LMI M ⪯ 0 (empty when there is none).
    pivots : tuple
        The LDLᵀ pivots of −M, exact.
    reason : str
        Why it is not verified ("" when it is).
    derivation : Derivation
    """

    rule: UpdateRule
    system: LinearSystem
    function_class: FunctionClass
    rate: sp.Expr
    verified: bool
    lyapunov: sp.ImmutableMatrix
    basis: sp.ImmutableMatrix
    kept: tuple
    multipliers: FrozenMapping
    lmi: sp.ImmutableMatrix
    pivots: tuple
    reason: str
    derivation: object = field(repr=False)

    def __post_init__(self):
        freeze_fields(self, "multipliers")


def _checked_rate(rate):
    value = exact_number(rate, where="certify_rate(rate=...)")
    if not value.is_Rational or not 0 < value <= 1:
        raise ArgumentError(
            f"certify_rate: rate = {value} must be a rational number in (0, 1] "
            "(the weighted off-by-one IQC needs rho <= 1)",
            symbol="rate",
        )
    return value


def _checked_class(function_class):
    if not isinstance(function_class, FunctionClass):
        raise FunctionClassError(
            "the class must be one of sd.function_classes.SmoothStronglyConvex(mu, L), "
            f"SmoothConvex(L), Quadratics(mu, L); got {type(function_class).__name__}"
        )
    return function_class


def _exact_check(lmi, lyapunov, multipliers):
    """The outcome for one rational candidate, as the certificate's fields: ``verified``,
    ``lyapunov`` (P), ``multipliers``, ``lmi`` (M), ``pivots`` (of −M) and ``reason``."""
    positive = semidefinite(lyapunov, strict=True)
    matrix = lmi.matrix(lyapunov, multipliers)
    negative = semidefinite(-matrix)
    reason = ""
    if not positive.holds:
        reason = f"P is not positive definite ({positive.reason})"
    elif not negative.holds:
        reason = f"the LMI matrix is not <= 0 ({negative.reason})"
    return dict(
        verified=not reason,
        lyapunov=lyapunov,
        basis=lmi.basis,
        kept=lmi.kept,
        multipliers=multipliers,
        lmi=matrix,
        pivots=negative.pivots,
        reason=reason,
    )


def _certify(system, function_class, rate, proposer=None):
    """The certificate at ``rate`` for a linear system (not on quadratics)."""
    lmi = lmi_of(system, function_class, rate)
    phase("the SDP (cvxpy)")
    proposal = (proposer or Proposer(lmi))(rate)
    empty = sp.ImmutableMatrix.zeros(0, 0)
    if proposal is None:
        reason = "the SDP solver found no P and multipliers with a nonnegative margin"
        return dict(
            verified=False,
            lyapunov=empty,
            basis=lmi.basis,
            kept=lmi.kept,
            multipliers={},
            lmi=empty,
            pivots=(),
            reason=reason,
        ), lmi
    numeric_p, numeric_multipliers, _ = proposal
    phase("the exact LDL^T check")
    attempt = None
    for denominator in DENOMINATORS:
        attempt = _exact_check(lmi, *rationalised(numeric_p, numeric_multipliers, denominator))
        if attempt["verified"]:
            break
    if not attempt["verified"]:
        attempt["reason"] = (
            "the rounded solver proposal fails the exact check: " + attempt["reason"]
        )
    return attempt, lmi


def _quadratic_certificate(rule, system, function_class, rate):
    from symdyn.classes.spectral import spectral_rate

    worst = spectral_rate(system, function_class)
    verified = sign_of(sp.nsimplify(worst.rate - rate)) in (-1, 0)
    empty = sp.ImmutableMatrix.zeros(0, 0)
    return RateCertificate(
        rule=rule,
        system=system,
        function_class=function_class,
        rate=rate,
        verified=verified,
        lyapunov=empty,
        basis=empty,
        kept=(),
        multipliers={},
        lmi=empty,
        pivots=(),
        reason="" if verified else f"the worst case over the spectrum is {worst.rate}",
        derivation=quadratic_proof(system, function_class, rate, worst, verified),
    )


@bounded("certify_rate")
def certify_rate(rule, function_class, rate, params=None):
    """Certify that ``rule`` converges at ``rate`` on every function of ``function_class``.

    For f ∈ S(μ, L) the certificate is P ≻ 0 and multipliers λ, ν ≥ 0 with the LMI of
    Lessard, Recht & Packard (2016, Thm. 4) with the sector and weighted off-by-one
    IQCs (:mod:`symdyn.classes.iqc`); it proves W_{k+1} ≤ ρ² W_k for
    W = V + ν G, hence |ξ_k − ξ*| ≤ c ρᵏ |ξ_0 − ξ*|. V is posed on the augmented
    states reached after one step (:func:`~symdyn.classes.iqc.reached_basis`).

    Parameters
    ----------
    rule : UpdateRule
        Gradient calls ``sd.grad(f(y), y)`` of an undefined function at points linear in
        the state (:func:`symdyn.classes.linear_system.linear_system`).
    function_class : SmoothStronglyConvex, SmoothConvex or Quadratics
    rate : rational number in (0, 1]
    params : mapping
        Exact values of every parameter of the rule.
    timeout : float, optional

    Returns
    -------
    RateCertificate
        ``.verified`` only when P ≻ 0, the multipliers ≥ 0 and M ⪯ 0 hold exactly.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x, eta = sp.Symbol("x", real=True), sp.Symbol("eta", positive=True)
    >>> f = sp.Function("f")
    >>> gd = sd.optimizers.gd(f(x), [x], lr=eta)
    >>> cls = sd.function_classes.SmoothStronglyConvex(mu=1, L=10)
    >>> cert = sd.certify_rate(gd, cls, rate=sp.Rational(19, 20), params={eta: 0.1})
    >>> cert.verified
    True
    >>> sd.certify_rate(gd, cls, rate=sp.Rational(17, 20), params={eta: 0.1}).verified
    False
    """
    function_class = _checked_class(function_class)
    rate = _checked_rate(rate)
    phase("the linear system")
    system = linear_system(rule, params)
    if function_class.quadratic_only:
        return _quadratic_certificate(rule, system, function_class, rate)
    found, lmi = _certify(system, function_class, rate)
    return RateCertificate(
        rule=rule,
        system=system,
        function_class=function_class,
        rate=rate,
        derivation=rate_proof(system, function_class, lmi, found),
        **found,
    )


@bounded("best_certified_rate")
def best_certified_rate(rule, function_class, params=None, tol=1e-6):
    """The smallest rate :func:`certify_rate` verifies, by bisection on [0, 1].

    Every rate tried is a dyadic rational; the one returned is verified, and the rate
    ``tol`` below it was not (the solver found no certificate there, or it failed the
    exact check). On :class:`Quadratics` the exact worst case over the spectrum is
    returned directly.

    Triple momentum's filter state is a fixed combination of ξ after one step; on the
    whole augmented space its LMI would not be strictly feasible near ρ* = 1 − 1/√κ (the
    margin would shrink like (ρ − ρ*)², and a double-precision proposal would fail the
    exact check within 5e-4 of ρ*). On the states reached the margin grows like ρ − ρ*,
    and the bracket closes to ``tol`` (down to about 1e-6, where P's least eigenvalue
    meets the solver's floor).

    Parameters
    ----------
    rule, function_class, params
        As for :func:`certify_rate`.
    tol : float
        Width of the final bracket.
    timeout : float, optional

    Returns
    -------
    RateCertificate
        The certificate at the upper end of the bracket; ``.verified`` is False when not
        even ρ = 1 could be certified (its ``.derivation`` says why).
    """
    function_class = _checked_class(function_class)
    system = linear_system(rule, params)
    if function_class.quadratic_only:
        from symdyn.classes.spectral import spectral_rate

        rate = spectral_rate(system, function_class).rate
        return _quadratic_certificate(rule, system, function_class, rate)
    if not 0 < float(tol) < 1:
        raise ArgumentError(f"best_certified_rate: tol = {tol} must be in (0, 1)", symbol="tol")
    low, high = sp.Integer(0), sp.Integer(1)
    proposer = Proposer(lmi_of(system, function_class, high))
    best, lmi = _certify(system, function_class, high, proposer)
    best_lmi = lmi
    while best["verified"] and high - low > tol:
        middle = (low + high) / 2
        found, lmi = _certify(system, function_class, middle, proposer)
        if found["verified"]:
            best, best_lmi, high = found, lmi, middle
        else:
            low = middle
    return RateCertificate(
        rule=rule,
        system=system,
        function_class=function_class,
        rate=high,
        derivation=rate_proof(system, function_class, best_lmi, best, bracket=(low, high)),
        **best,
    )


def _coordinates(lmi):
    """What P acts on, when that is not the whole augmented state."""
    if not lmi.reduced:
        return ""
    return (
        f" (V lives on z = xi_hat[{', '.join(map(str, lmi.kept))}], the states reached "
        "after one step; see .basis)"
    )


def verify(certificate):
    """Check ``certificate``'s own P and multipliers exactly, again.

    For a certificate changed by hand (``dataclasses.replace(cert, lyapunov=...)``) or
    read back from elsewhere: the LMI is rebuilt from its system, class and rate and
    decided by LDLᵀ pivots; nothing numeric is used.

    Returns
    -------
    RateCertificate
        The same certificate with ``.verified``, ``.lmi``, ``.pivots`` and ``.reason``
        recomputed.
    """
    if certificate.function_class.quadratic_only or not certificate.lyapunov.rows:
        return certificate
    lmi = lmi_of(certificate.system, certificate.function_class, certificate.rate)
    lyapunov = sp.ImmutableMatrix(certificate.lyapunov)
    if lyapunov.shape != (lmi.size, lmi.size) or lyapunov != lyapunov.T:
        raise ArgumentError(
            f"verify: P must be a symmetric {lmi.size}x{lmi.size} matrix, got shape "
            f"{lyapunov.shape}" + _coordinates(lmi)
        )
    multipliers = dict(certificate.multipliers)
    negative = [name for name, value in multipliers.items() if value < 0]
    if negative or set(multipliers) != {name for name, _, _ in lmi.forms}:
        found = dict(
            verified=False,
            lyapunov=lyapunov,
            basis=lmi.basis,
            kept=lmi.kept,
            multipliers=multipliers,
            lmi=sp.ImmutableMatrix.zeros(0, 0),
            pivots=(),
            reason=f"the multipliers {negative or sorted(multipliers)} are not valid",
        )
    else:
        found = _exact_check(lmi, lyapunov, multipliers)
    return dataclasses.replace(
        certificate,
        verified=found["verified"],
        lmi=found["lmi"],
        pivots=found["pivots"],
        reason=found["reason"],
        derivation=rate_proof(certificate.system, certificate.function_class, lmi, found),
    )
