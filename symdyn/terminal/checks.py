"""``symdyn check``: every claim symdyn derives for a rule, checked numerically.

Which checks apply depends on the rule: the Jacobian, fixed points and derivation
always; stability when the region is not empty or the boundary is known; the step
bound when there is a step; the continuous limit in that step; the Hamiltonian form's
symplectic claims when the rule has one. On a terminal, the check that is running and
the examples drawn so far are shown on stderr (:class:`~symdyn.terminal.status.Status`).
"""

from __future__ import annotations

import sympy as sp

from symdyn.errors import BudgetExceededError, SymdynError
from symdyn.linear.stability import stability

__all__ = ["applicable_checks", "run_checks", "table"]


def applicable_checks(rule, step, examples, scaling=None, time_step=None):
    """The checks that apply to ``rule``, as (name, thunk) pairs."""
    from symdyn import testing

    result = stability(rule)
    checks = [
        ("jacobian", lambda: testing.check_jacobian(rule, examples=examples)),
        ("fixed points", lambda: testing.check_fixed_points(rule, examples=examples)),
        ("derivation", lambda: testing.check_derivation(result, examples=examples)),
    ]
    if result.region is not sp.false or result.marginal is not None:
        checks.append(("stability", lambda: testing.check_stability(result, examples=examples)))
    if step is not None and result.region is not sp.false:
        checks.append(
            ("step bound", lambda: testing.check_step_bound(rule, step, examples=examples))
        )
    return checks + _continuous_checks(rule, step, examples, scaling, time_step)


def _continuous_checks(rule, step, examples, scaling, time_step):
    """The continuous limit in the step (a file's scaling and time step), and the
    Hamiltonian form's symplectic claims when the rule has one."""
    from symdyn import continuous_limit, hamiltonian_form, testing

    checks = []
    if step is not None:

        def limit_check():
            limit = continuous_limit(rule, h=step, scaling=scaling or None, time_step=time_step)
            return testing.check_continuous_limit(limit, examples=examples)

        checks.append(("continuous limit", limit_check))
    try:
        form = hamiltonian_form(rule)
    except BudgetExceededError:
        raise
    except SymdynError:
        return checks
    if not form.is_conformal_symplectic or form.contraction is None:
        return checks
    return [*checks, ("hamiltonian", lambda: testing.check_hamiltonian(form, examples=examples))]


def run_checks(checks, status):
    """Run each check; rows of (name, examples, result, counterexample) and whether one failed.

    ``status`` shows each check as it starts, with the examples the earlier ones drew.
    """
    from symdyn.testing import CheckFailure

    rows, failed, drawn = [], False, 0
    for number, (name, run) in enumerate(checks, start=1):
        running = f"check {number}/{len(checks)}: {name}  ({drawn} examples drawn so far)"
        try:
            with status.ticking(running):
                report = run()
            rows.append((name, str(report.examples), "pass", ""))
        except BudgetExceededError:
            raise
        except CheckFailure as failure:
            failed = True
            report = failure.report
            rows.append((name, str(report.examples), "FAIL", report.counterexample))
        except SymdynError as error:
            rows.append((name, "0", "skipped", str(error)))
        drawn += int(rows[-1][1])
    status.clear()
    return rows, failed


def table(rows) -> list[str]:
    """The rows as aligned columns under a header."""
    header = ("check", "examples", "result", "counterexample")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    return [
        "  ".join([*(row[i].ljust(widths[i]) for i in range(3)), row[3]]).rstrip()
        for row in [header, *rows]
    ]
