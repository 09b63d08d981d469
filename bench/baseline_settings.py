"""The product's settings with a one-view URLconf: the floor a ballot is compared to."""

from council.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
