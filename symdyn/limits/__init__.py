"""Continuous-time limits of an update rule: flows, modified equations, SDEs, Hamiltonian forms."""
