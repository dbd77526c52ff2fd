import os
import sys
import tempfile

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("NFIT_CACHE_DIR", tempfile.mkdtemp(prefix="nfit-bench-cache-"))

from nfit import headline  # noqa: E402

SIZES = [10_000, 100_000, 1_000_000, 10_000_000]


@pytest.fixture(scope="session")
def headline_data():
    return headline.make_data(50_000)


@pytest.fixture(scope="session")
def scaling_data():
    rng = np.random.default_rng(4)
    return {n: headline.make_channel_a(n, rng) for n in SIZES}
