import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """The join throttle counts in the cache, by user id; ids repeat across test runs."""
    cache.clear()
    yield
    cache.clear()
