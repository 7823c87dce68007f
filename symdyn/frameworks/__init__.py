"""Update rules traced from the optimizers a user runs: optax and ``torch.optim``.

One module per framework (:mod:`symdyn.frameworks.optax`,
:mod:`symdyn.frameworks.torch`), each importing its framework only when called,
so symdyn imports without them. The public entry points are ``sd.from_optax``
and ``sd.from_torch``.
"""
