"""Fuzzing exact stability: random linear rules against NumPy's spectral radius.

The rules and the checks are in ``tests/stability_fuzzing.py``; the counts over
many rules come from ``benchmarks/fuzz_stability.py``. The fast profile draws a
few dozen rules, the thorough one (``HYPOTHESIS_PROFILE=thorough``) 10⁴.
"""

from hypothesis import given, settings

from tests.stability_fuzzing import examine, linear_cases

EXAMPLES = {"thorough": 10_000}.get(settings.get_current_profile_name(), 30)


@settings(max_examples=EXAMPLES)
@given(linear_cases())
def test_exact_stability_agrees_with_numeric_spectral_radii(case):
    """is_stable, spectral_radius and step_bound agree with eigenvalues of the numeric
    Jacobian, or symdyn says it cannot decide; never a wrong claim or a raw error."""
    outcome = examine(case, seconds=5.0)
    assert outcome.kind in ("exact", "undecided"), f"{outcome.detail}\n{case.code()}"
