"""Numerics: lambdified maps, the numba backend, simulation, stability maps, training and plots."""
