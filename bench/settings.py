"""The project's settings with one extra URL: a trivial view to compare the board's throughput against."""

from homevisits.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
