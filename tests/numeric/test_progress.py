"""Tests of symdyn.numeric.progress: bars only when asked or on a terminal."""

import io
import pickle

import numpy as np
import pytest

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, beta, eta, lam, x
from symdyn.errors import ArgumentError
from symdyn.numeric.progress import BlockProgress
from tests.optional import require_module

RULE = CATALOGUE["heavy-ball"].factory()
START = {x: 1.0, "v_x": 0.0}
PARAMS = {eta: np.array([0.1, 0.5]), beta: 0.5, lam: 1.0}
GRID = {eta: np.linspace(0.01, 5.0, 30), beta: np.linspace(0.01, 1.2, 20)}


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self):
        return True


def test_no_bar_when_switched_off_or_not_on_a_terminal(capsys):
    for progress in (False, None):  # under pytest, stderr is captured: not a terminal
        sd.simulate(RULE, START, PARAMS, steps=50, tol=0, progress=progress)
        sd.stability_map(RULE, GRID, fixed={lam: 1.0}, method="simulate", progress=progress)
    assert capsys.readouterr() == ("", "")
    quiet = io.StringIO()
    sd.simulate(RULE, START, PARAMS, steps=50, tol=0, progress_file=quiet)
    assert quiet.getvalue() == ""


def test_simulate_writes_a_bar_over_the_steps_when_asked(capsys):
    stream = io.StringIO()
    run = sd.simulate(RULE, START, PARAMS, steps=50, tol=0, progress=True, progress_file=stream)
    assert f"simulate {RULE.name}" in stream.getvalue() and "50/50" in stream.getvalue()
    assert capsys.readouterr() == ("", "")  # nothing went to the real stderr
    # the bar does not change the run
    same = sd.simulate(RULE, START, PARAMS, steps=50, tol=0, progress=False)
    np.testing.assert_array_equal(run.final[x], same.final[x])


def test_default_bar_follows_whether_the_stream_is_a_terminal():
    terminal = Terminal()
    sd.simulate(RULE, START, PARAMS, steps=20, tol=0, progress_file=terminal)
    assert "20/20" in terminal.getvalue()
    silenced = Terminal()
    sd.simulate(RULE, START, PARAMS, steps=20, tol=0, progress=False, progress_file=silenced)
    assert silenced.getvalue() == ""


def test_simulated_map_shows_the_steps_and_an_analytic_one_nothing():
    stream = io.StringIO()
    simulated = sd.stability_map(
        RULE, GRID, fixed={lam: 1.0}, method="simulate", steps=80, progress=True,
        progress_file=stream,
    )  # fmt: skip
    assert f"simulate {RULE.name}" in stream.getvalue()
    quiet = io.StringIO()
    analytic = sd.stability_map(RULE, GRID, fixed={lam: 1.0}, progress=True, progress_file=quiet)
    assert quiet.getvalue() == ""
    assert analytic.agreement(simulated) > 0.9


def test_chunked_map_counts_blocks_on_every_compute():
    require_module("dask.array")
    stream = io.StringIO()
    smap = sd.stability_map(
        RULE, GRID, fixed={lam: 1.0}, chunks=(10, 10), progress=True, progress_file=stream
    )
    assert stream.getvalue() == ""  # lazy: nothing has run yet
    whole = sd.stability_map(RULE, GRID, fixed={lam: 1.0})
    np.testing.assert_array_equal(smap.stable.compute(), whole.stable)
    np.testing.assert_allclose(smap.values.compute(), whole.values)
    text = stream.getvalue()
    assert f"stability map of {RULE.name}" in text and "6/6" in text  # 3 x 2 blocks
    assert text.count("| 0/6 [") == 2 and "7/6" not in text  # one bar per compute


def test_chunked_simulated_map_has_one_bar_for_the_blocks_not_one_per_block():
    require_module("dask.array")
    stream = io.StringIO()
    smap = sd.stability_map(
        RULE, GRID, fixed={lam: 1.0}, method="simulate", steps=60, chunks=15, progress=True,
        progress_file=stream,
    )  # fmt: skip
    smap.stable.compute()
    assert "4/4" in stream.getvalue() and "simulate" not in stream.getvalue()  # 2 x 2 blocks


def test_a_copy_in_another_process_is_silent():
    stream = io.StringIO()
    counter = BlockProgress(2, "blocks", stream)
    copy = pickle.loads(pickle.dumps(counter))
    copy()
    copy()
    assert stream.getvalue() == ""
    counter()
    counter()
    assert "2/2" in stream.getvalue()


def test_progress_must_be_a_switch():
    with pytest.raises(ArgumentError, match="progress_file"):
        sd.simulate(RULE, START, PARAMS, steps=5, progress=io.StringIO())
