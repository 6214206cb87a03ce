import pytest

from simulators.generator import build


@pytest.fixture(scope="session")
def default_world():
    """The default demo world (seed 7, 60 customers), built once."""
    return build(7)


@pytest.fixture(scope="session")
def big_world():
    """A 2000-customer world (about 2 s)."""
    return build(7, customers=2000)


@pytest.fixture(scope="session")
def rules_world():
    """A 200-customer world (seed 7): every rule planted with its near misses."""
    return build(7, customers=200)
