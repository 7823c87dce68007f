"""The README's shell examples run, and print what the README shows.

Each ``$ symdyn ...`` line of a ``console`` block of README.md is run (in this process,
through :func:`symdyn.cli.main`, what the ``symdyn`` script calls); the lines below it, up
to the next command, are its expected output, where ``...`` stands for any lines.
"""

import io
import re
import shlex
from pathlib import Path

import pytest

from symdyn.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def shell_examples(text):
    """(command arguments, expected lines) for each ``$ symdyn`` line of a console block."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, *expected = chunk.rstrip("\n").split("\n")
            words = shlex.split(command, comments=True)
            assert words[0] == "symdyn", command
            examples.append((words[1:], expected))
    return examples


def matches(lines, expected):
    """Whether ``lines`` are ``expected``, where a ``...`` line stands for any lines."""
    lines = [line.rstrip() for line in lines]
    expected = [line.rstrip() for line in expected]

    def rest(i, j):  # do lines[i:] match expected[j:]?
        if j == len(expected):
            return i == len(lines)
        if expected[j] == "...":
            return any(rest(k, j + 1) for k in range(i, len(lines) + 1))
        return i < len(lines) and lines[i] == expected[j] and rest(i + 1, j + 1)

    return rest(0, 0)


def test_matching_reads_the_ellipsis_and_fails_on_a_difference():
    assert matches(["a", "b", "c"], ["a", "...", "c"])
    assert matches(["a", "b", "c"], ["a", "..."])
    assert not matches(["a", "b", "c"], ["a", "c"])
    assert not matches(["a", "x"], ["a", "b"])


EXAMPLES = shell_examples(README.read_text(encoding="utf-8"))


def test_the_readme_has_shell_examples():
    assert len(EXAMPLES) >= 4 and all(expected for _, expected in EXAMPLES)


@pytest.mark.parametrize("args, expected", EXAMPLES, ids=[" ".join(a) for a, _ in EXAMPLES])
def test_readme_example_prints_what_the_readme_shows(args, expected):
    out = io.StringIO()
    assert main(args, out=out) == 0
    lines = out.getvalue().rstrip("\n").split("\n")
    assert matches(lines, expected), "\n".join(["printed:", *lines, "README:", *expected])
