"""Two rules have the same map: the extracted state renamed onto the catalogue's, in order,
and every component's difference simplifying to zero."""

import sympy as sp


def same_map(extracted, catalogue):
    """Whether ``extracted`` and ``catalogue`` (same state length) define the same map."""
    assert len(extracted.state) == len(catalogue.state), (extracted.state, catalogue.state)
    rename = dict(zip(extracted.state, catalogue.state, strict=True))
    if extracted.counter is not None and catalogue.counter is not None:
        rename[extracted.counter] = catalogue.counter
    ours = extracted.map.xreplace(rename)
    return all(sp.simplify(a - b) == 0 for a, b in zip(ours, catalogue.map, strict=True))
