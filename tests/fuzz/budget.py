"""The fuzz budget: a fixed number of examples per target, from ``IOSIM_FUZZ_EXAMPLES``.

The test suite runs every target with a small budget; ``.ci/run`` runs them again with a
larger one. Each run draws new examples (no example database), so CI keeps exploring; any
exception that is not the product's own refusal fails the build with the example that
caused it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("IOSIM_FUZZ_EXAMPLES", "60"))

FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
