"""The public path of the catalogue's optimizers: :mod:`symdyn.catalogue.optimizers`
(gd, heavy ball, Nesterov) and :mod:`symdyn.catalogue.adaptive` (AdaGrad, RMSProp, Adam,
AdamW), each defined once there."""

from symdyn.catalogue.adaptive import adagrad, adam, adamw, rmsprop
from symdyn.catalogue.optimizers import gd, heavy_ball, nesterov

__all__ = ["adagrad", "adam", "adamw", "gd", "heavy_ball", "nesterov", "rmsprop"]
