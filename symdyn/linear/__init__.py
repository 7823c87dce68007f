"""Linear analyses of an update map.

Criteria, stability, step bounds, zero stability, modes, quadratics, spectra, tuning, noise.
"""
