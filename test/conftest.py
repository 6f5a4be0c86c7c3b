"""Shared test set-up.

Hypothesis: under CI (the CI environment variable set, as .ci/run is run) every
property test draws its examples from a fixed seed, so a CI result can be
reproduced; local runs keep exploring new examples.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
