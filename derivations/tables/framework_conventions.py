"""The conventions table of docs/conventions.md, extracted from optax's and torch's code.

For each optimizer it traces the optax and the torch.optim implementation
(``sd.from_optax``, ``sd.from_torch``), prints their update equations side by side with
the catalogue rule, and the stability region of each on λx²/2 (adaptive methods with
their preconditioner frozen, late in training: ``freeze_preconditioner(...,
asymptotic=True)``). Nothing in the table is written by hand.

    python derivations/tables/framework_conventions.py          # rewrite the table
    python derivations/tables/framework_conventions.py --check  # exit 1 if it is stale
"""

import sys
from pathlib import Path

import optax
import sympy as sp
import torch

import symdyn as sd
from symdyn.catalogue.named import QUADRATIC, x
from symdyn.errors import SymdynError
from symdyn.frameworks.preconditioner import freeze_preconditioner

DOCS = Path(__file__).resolve().parents[2] / "docs" / "conventions.md"
START = "<!-- framework-table:start (derivations/tables/framework_conventions.py) -->"
END = "<!-- framework-table:end -->"

eta, mu, beta1, beta2, eps, omega, alpha = sp.symbols(
    "eta mu beta1 beta2 epsilon omega alpha", positive=True
)
Q = QUADRATIC
ROWS = [
    (
        "SGD with momentum",
        lambda: sd.from_optax(optax.sgd, learning_rate=eta, momentum=mu),
        lambda: sd.from_torch(torch.optim.SGD, lr=eta, momentum=mu),
        lambda: sd.optimizers.heavy_ball(Q, [x], eta, mu, convention="torch"),
    ),
    (
        "Nesterov",
        lambda: sd.from_optax(optax.sgd, learning_rate=eta, momentum=mu, nesterov=True),
        lambda: sd.from_torch(torch.optim.SGD, lr=eta, momentum=mu, nesterov=True),
        lambda: sd.optimizers.nesterov(Q, [x], eta, mu, convention="torch"),
    ),
    (
        "Adam",
        lambda: sd.from_optax(optax.adam, learning_rate=eta, b1=beta1, b2=beta2, eps=eps),
        lambda: sd.from_torch(torch.optim.Adam, lr=eta, betas=(beta1, beta2), eps=eps),
        lambda: sd.optimizers.adam(Q, [x], eta, beta1, bias_correction=True),
    ),
    (
        "AdamW",
        lambda: sd.from_optax(
            optax.adamw, learning_rate=eta, b1=beta1, b2=beta2, eps=eps, weight_decay=omega
        ),
        lambda: sd.from_torch(
            torch.optim.AdamW, lr=eta, betas=(beta1, beta2), eps=eps, weight_decay=omega
        ),
        lambda: sd.optimizers.adamw(Q, [x], eta, beta1, omega, bias_correction=True),
    ),
    (
        "RMSprop",
        lambda: sd.from_optax(optax.rmsprop, learning_rate=eta, decay=alpha, eps=eps),
        lambda: sd.from_torch(torch.optim.RMSprop, lr=eta, alpha=alpha, eps=eps),
        lambda: sd.optimizers.rmsprop(Q, [x], eta, convention="torch"),
    ),
    (
        "Adagrad",
        lambda: sd.from_optax(optax.adagrad, learning_rate=eta, eps=eps),
        lambda: sd.from_torch(torch.optim.Adagrad, lr=eta, eps=eps),
        lambda: sd.optimizers.adagrad(Q, [x], eta),
    ),
]


def cell(text):
    return "`" + str(text).replace("|", "\\|") + "`"


def equations(rule):
    return "<br>".join(cell(f"{t} ← {v}") for t, v in rule.updates)


def frozen(rule):
    """The rule as analysed: frozen and late where it has a second-moment preconditioner."""
    try:
        result = freeze_preconditioner(rule, asymptotic=True)
    except SymdynError:
        return rule, ""
    (p, denominator), *_ = result.preconditioners.items()
    return result.rule, f"<br>frozen: {cell(f'{p} = {denominator}')}"


def region(rule):
    try:
        return cell(sd.stability(rule).region)
    except SymdynError as error:
        return f"not analysed: {type(error).__name__}"


def table():
    lines = [
        "| optimizer | optax (extracted) | torch.optim (extracted) | catalogue rule |",
        "| --- | --- | --- | --- |",
    ]
    for name, from_optax, from_torch, catalogue in ROWS:
        cells = []
        for make in (from_optax, from_torch, catalogue):
            rule = make()
            analysed, note = (rule, "") if make is catalogue else frozen(rule)
            cells.append(f"{equations(rule)}{note}<br>region: {region(late(analysed))}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def late(rule):
    """A catalogue rule with bias correction, late in training (βᵏ → 0)."""
    if rule.counter is None:
        return rule
    powers = {p: 0 for _, v in rule.updates for p in v.atoms(sp.Pow) if p.exp == rule.counter}
    updates = [(t, v.xreplace(powers)) for t, v in rule.updates]
    return sd.UpdateRule(rule.state, updates, rule.params, name=rule.name, free=rule.free)


def main():
    text = DOCS.read_text(encoding="utf-8")
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    fresh = f"{before}{START}\n{table()}\n{END}{after}"
    if "--check" in sys.argv:
        if fresh != text:
            print(f"{DOCS} is stale: run {__file__}")
            return 1
        print("✓ the conventions table is current")
        return 0
    DOCS.write_text(fresh, encoding="utf-8")
    print(f"wrote the framework table into {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
