"""Curvature: critical points, the Gauss–Newton split and response Jacobians."""
