"""Export a traced computation as Graphviz DOT text.

Render the text with the ``graphviz`` package (``graphviz.Source(text)``) or
the ``dot`` program; this module only writes text, so it needs neither.
"""

import numpy as np

from .core import ReverseTracer
from .transforms import _reverse


def _quote(text):
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _shape_text(value):
    shape = np.shape(value)
    return "scalar" if shape == () else "×".join(str(n) for n in shape)


def _declare(ident, shape, title, value):
    label = _quote(f"{title}\n{_shape_text(value)}")
    return f"  {ident} [shape={shape}, label={label}];"


def to_dot(f, *args, name="computation"):
    """The graph of primitives that ``f(*args)`` runs, as DOT text.

    Every primitive is a box labelled with its operation and result shape;
    inputs are ellipses; edges run from operand to result. Called with a
    reverse-mode traced value instead of a function (for instance inside a
    function being differentiated), it exports the graph that made that value.

    Parameters
    ----------
    f : callable or ReverseTracer
        Called with ``args``, all of which are traced.
    *args : array_like of float
    name : str
        The graph's name.

    Returns
    -------
    str

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> print(ad.to_dot(lambda w, x: ad.sum(ad.tanh(w @ x)), np.ones((2, 3)), np.ones(3)))
    digraph "computation" {
      node [fontname="Helvetica"];
      n0 [shape=ellipse, label="input 0\\n2×3"];
      n1 [shape=ellipse, label="input 1\\n3"];
      n2 [shape=box, label="matmul\\n2"];
      n3 [shape=box, label="tanh\\n2"];
      n4 [shape=box, label="sum\\nscalar"];
      n0 -> n2;
      n1 -> n2;
      n2 -> n3;
      n3 -> n4;
    }
    """
    if isinstance(f, ReverseTracer) and not args:
        out, leaves = f, []
    else:
        out, traced, leaves, _ = _reverse(f, args, tuple(range(len(args))), "to_dot")
        if not traced:
            out = None
    ids = {}
    lines = [f"digraph {_quote(name)} {{", '  node [fontname="Helvetica"];']
    edges = []
    for i, leaf in enumerate(leaves):
        ids[leaf] = f"n{i}"
        lines.append(_declare(ids[leaf], "ellipse", f"input {i}", leaf.ans))
    for node in [] if out is None else _forward_order(out.node):
        if node in ids:
            continue
        ids[node] = f"n{len(ids)}"
        if node.primitive is None:
            lines.append(_declare(ids[node], "ellipse", "input", node.ans))
            continue
        lines.append(_declare(ids[node], "box", node.primitive.name, node.ans))
        edges += [f"  {ids[parent]} -> {ids[node]};" for parent in node.parents]
    return "\n".join([*lines, *edges, "}"])


def _forward_order(end):
    """Nodes reachable from ``end``, each after its operands (iterative depth-first walk)."""
    order, seen, stack = [], set(), [(end, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((parent, False) for parent in reversed(node.parents))
    return order
