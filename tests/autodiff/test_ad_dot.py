"""DOT export of traced graphs."""

import re

import numpy as np

import symdyn.autodiff as ad
from tests.optional import require_module


def _mlp_loss(w, x):
    return ad.mean(ad.tanh(x @ w) ** 2)


def _dot_text():
    return ad.to_dot(_mlp_loss, np.ones((3, 4)), np.ones((5, 3)))


def test_dot_text_names_each_operation_with_its_shape_and_links_operands():
    text = _dot_text()
    assert text.startswith('digraph "computation" {') and text.endswith("}")
    labels = dict(re.findall(r'(n\d+) \[shape=\w+, label="([^"]*)"\];', text))
    assert list(labels.values()) == [
        "input 0\\n3×4",
        "input 1\\n5×3",
        "matmul\\n5×4",
        "tanh\\n5×4",
        "power\\n5×4",
        "sum\\nscalar",
        "divide\\nscalar",
    ]
    edges = re.findall(r"(n\d+) -> (n\d+);", text)
    assert {end for edge in edges for end in edge} <= set(labels)
    assert ("n0", "n2") in edges and ("n1", "n2") in edges and ("n5", "n6") in edges
    assert len(edges) == 6


def test_dot_of_a_traced_value_inside_a_transform():
    seen = []

    def f(x):
        y = ad.exp(x) * 2.0
        seen.append(ad.to_dot(y, name="inside"))
        return ad.sum(y)

    ad.grad(f)(np.zeros(2))
    assert seen[0].startswith('digraph "inside"')
    assert 'label="exp\\n2"' in seen[0] and 'label="multiply\\n2"' in seen[0]


def test_dot_text_is_accepted_by_graphviz():
    graphviz = require_module("graphviz")
    source = graphviz.Source(_dot_text(), format="svg")
    assert source.source.strip() == _dot_text()


def test_dot_of_a_function_that_ignores_traced_inputs_shows_only_the_inputs():
    texts = []

    def f(x):
        texts.append(ad.to_dot(lambda z: np.ones(2), x))
        return ad.sum(x)

    ad.grad(f)(np.zeros(3))
    assert 'n0 [shape=ellipse, label="input 0\\n3"];' in texts[0]
    assert "->" not in texts[0]
