"""Time budgets: every symbolic analysis stops with BudgetExceededError, on any thread.

Times are measured in benchmarks/exhaustion.py, never asserted here: these tests check
that the work stops, with which error and message, and that nothing is left behind.
"""

import io
import subprocess
import sys
import threading
import time

import pytest
import sympy as sp

import symdyn as sd
from symdyn import budget
from symdyn.cli import main

x, v = sp.symbols("x v", real=True)
eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
# A 500 000-term polynomial: any exact analysis of it takes far longer than a second.
HEAVY = sd.UpdateRule([x], [(x, x - eta * (x + eta + 1) ** 1000)], [eta])
CIRCULANT = sd.UpdateRule(
    [s := sp.symbols(f"s0:{30}", real=True)][0],
    [(s[i], s[i] - eta * (s[i] - s[(i + 1) % 30]) * beta ** (i % 3)) for i in range(30)],
    [eta, beta],
    simultaneous=True,
)


@pytest.mark.parametrize(
    ("analysis", "call"),
    [
        ("stability", lambda: sd.stability(HEAVY, timeout=0.5)),
        ("step_bound", lambda: sd.step_bound(HEAVY, eta, timeout=0.5)),
        ("stability", lambda: sd.stability(CIRCULANT, timeout=0.5)),
        ("continuous_limit", lambda: sd.continuous_limit(HEAVY, h=eta, timeout=0.5)),
        ("modified_equation", lambda: sd.modified_equation(HEAVY, h=eta, order=3, timeout=0.5)),
    ],
)
def test_an_exhausting_analysis_stops_naming_its_phase(analysis, call):
    with pytest.raises(sd.BudgetExceededError) as info:
        call()
    error = info.value
    assert error.timeout == 0.5 and error.phase
    assert str(error).startswith(f"{analysis}: the time budget of 0.5 s ran out while")


def test_the_budget_works_in_a_worker_thread():
    caught = []

    def work():
        try:
            sd.stability(HEAVY, timeout=0.3)
        except sd.BudgetExceededError as error:
            caught.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert not thread.is_alive() and len(caught) == 1


def test_no_interrupt_outlives_its_budget():
    """A finished analysis leaves no pending interrupt behind, even right at its deadline."""
    for _ in range(200):
        with budget.budget(0.001, "tiny"):
            sum(range(2000))
    time.sleep(0.2)  # a stray interrupt would fire here and fail the test
    assert budget._local.stack == []


def test_a_block_left_without_its_exit_is_never_interrupted_again():
    """An interrupt can land as the budget's exit starts, before it stops its watchdog.

    The watchdog interrupts only while the frame that opened the budget runs, so the
    code after it is never hit; the next budget drops the stale one from its stack.
    """

    def opened_and_abandoned():
        budget.budget(0.05, "abandoned").__enter__()

    opened_and_abandoned()
    time.sleep(0.3)  # six watchdog periods: any interrupt would land here
    with budget.budget(10, "next"):
        assert [entry.analysis for entry in budget._local.stack] == ["next"]
    assert budget._local.stack == []


def test_an_interrupt_in_the_exit_is_still_a_budget_error(monkeypatch):
    exit_ = budget.budget.__exit__

    def interrupted_exit(self, *details):
        if details[0] is None:
            raise budget._Interrupt  # as if it landed on the exit's first instruction
        return exit_(self, *details)

    monkeypatch.setattr(budget.budget, "__exit__", interrupted_exit)
    with pytest.raises(sd.BudgetExceededError, match="an instant: the time budget"):
        budget.bounded("an instant")(lambda: None)(timeout=5)
    time.sleep(0.2)


def test_an_inner_budget_never_outlives_the_outer_one():
    with pytest.raises(sd.BudgetExceededError), budget.budget(0.3, "outer"):
        sd.stability(HEAVY, timeout=100)


def test_the_default_budget_can_be_set():
    previous = budget.set_default_timeout(0.3)
    try:
        with pytest.raises(sd.BudgetExceededError, match=r"0\.3 s"):
            sd.stability(HEAVY)
    finally:
        budget.set_default_timeout(previous)
    assert budget.default_timeout() == previous


def test_code_that_catches_every_exception_is_still_stopped():
    """Libraries write ``except Exception``; the interrupt is not an Exception."""

    @budget.bounded("a careless loop")
    def careless():
        while True:
            try:
                sum(range(1000))
            except Exception:
                continue

    with pytest.raises(sd.BudgetExceededError, match="a careless loop"):
        careless(timeout=0.2)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "10", True])
def test_a_bad_timeout_is_an_argument_error(bad):
    with pytest.raises(sd.ArgumentError, match="timeout"):
        sd.stability(HEAVY, timeout=bad)


def test_the_command_line_stops_at_its_timeout_with_exit_2(tmp_path, capsys):
    path = tmp_path / "heavy.toml"
    path.write_text(
        'state = ["x"]\n[params]\neta = { positive = true }\n'
        # within every parser limit (45 451 terms), beyond half a second of algebra
        '[[update]]\ntarget = "x"\nexpr = "x - eta*(x + eta + 1)**300"\n'
    )
    assert main(["analyze", str(path), "--timeout", "0.5"], out=io.StringIO()) == 2
    assert "time budget of 0.5 s ran out" in capsys.readouterr().err


def test_an_interrupted_budget_leaves_the_interpreter_at_full_speed(tmp_path):
    """Cancelling an interrupt with PyThreadState_SetAsyncExc(id, NULL) left CPython's
    eval breaker set for good: a failing hypothesis test afterwards never finished."""
    script = tmp_path / "after_a_budget.py"
    script.write_text(
        "import time\n"
        "from hypothesis import given, settings, strategies as st\n"
        "import symdyn as sd\n"
        "from symdyn import budget\n"
        "try:\n"
        "    with budget.budget(0.2, 'a wait'):\n"
        "        while True:\n"
        "            time.sleep(0.01)\n"
        "except sd.BudgetExceededError:\n"
        "    pass\n"
        "@settings(max_examples=200, deadline=None, database=None)\n"
        "@given(st.integers())\n"
        "def claim(i):\n"
        "    assert i < 100\n"
        "try:\n"
        "    claim()\n"
        "except AssertionError:\n"
        "    print('counterexample found')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "counterexample found", done.stderr
