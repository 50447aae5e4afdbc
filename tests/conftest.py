"""Hypothesis profiles: "ci" (the default) is deterministic, with a fixed example count and no
deadline, so a run is stable on a shared machine and a failure reproduces; "dev" explores more.
Pick one with HYPOTHESIS_PROFILE=dev."""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
