"""Time symdyn's whitelist parser against ``sympy.parse_expr`` on the same inputs.

``parse_expr`` evaluates its input and is unsafe for untrusted text; it is
only the baseline here. Prints the ratio of our time to the baseline's (both
measured in this run).
"""

import time

import sympy as sp
from sympy.parsing.sympy_parser import parse_expr

from symdyn.rules.parsing import parse_expression

NAMES = "x v m g eta beta lambda gamma mu L"
SYMBOLS = {s.name: s for s in sp.symbols(NAMES, real=True)}
INPUTS = [
    "x - eta*g",
    "beta*v - eta*g",
    "x + v",
    "beta*m + (1 - beta)*g",
    "x - eta*m/(sqrt(v) + 1/100000000)",
    "x + beta*(x - v) - eta*lambda*(x + beta*(x - v))",
    "lambda*x**2/2 + mu*Abs(x) - log(1 + exp(-L*x))",
    "1 - gamma*sqrt(eta)",
    "Max(mu, Min(L, tanh(x)*cos(v) + sin(m)))",
    "(1 - beta**2)*x**3/3 - 2*x*v + v**2/2",
]
REPEATS = 200


def _time(parse):
    start = time.perf_counter()
    for _ in range(REPEATS):
        for text in INPUTS:
            parse(text)
    return time.perf_counter() - start


def main():
    ours = lambda text: parse_expression(text, SYMBOLS)  # noqa: E731
    local = {name: symbol for name, symbol in SYMBOLS.items() if name != "lambda"}
    local["lamda"] = SYMBOLS["lambda"]
    baseline = lambda text: parse_expr(text.replace("lambda", "lamda"), local_dict=local)  # noqa: E731
    # Same results, and both parsers start from sympy's warm cache.
    for text in INPUTS:
        assert sp.simplify(ours(text) - baseline(text)) == 0, text
    t_ours = _time(ours)
    t_base = _time(baseline)
    count = REPEATS * len(INPUTS)
    print(f"parsing: {count} expressions")
    print(f"  symdyn.rules.parsing.parse_expression  {1e6 * t_ours / count:8.1f} µs each")
    print(f"  sympy.parse_expr (baseline)      {1e6 * t_base / count:8.1f} µs each")
    print(f"  ratio ours / baseline            {t_ours / t_base:8.2f}")


if __name__ == "__main__":
    main()
