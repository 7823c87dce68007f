"""Hypothesis profiles: ``fast`` (the default) and ``thorough``."""

from hypothesis import HealthCheck, settings

__all__ = ["register_profiles"]

PROFILES = {"fast": 30, "thorough": 500}


def register_profiles(load=None):
    """Register the ``fast`` and ``thorough`` profiles and load ``load`` if given.

    Examples
    --------
    >>> register_profiles()
    >>> settings.get_profile("thorough").max_examples
    500
    """
    for name, examples in PROFILES.items():
        settings.register_profile(
            name,
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
    if load is not None:
        settings.load_profile(load)
