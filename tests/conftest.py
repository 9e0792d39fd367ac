"""Settings every test module shares."""

from __future__ import annotations

from hypothesis import settings

# These machines are shared: a test that takes longer than Hypothesis's 200 ms deadline under load is
# slow, not wrong. Speed is measured in benchmarks/, never asserted here.
settings.register_profile("friendly_errors", deadline=None)
settings.load_profile("friendly_errors")
