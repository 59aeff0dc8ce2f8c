"""The actions suite's fixtures (loopback upstream, live integrations) serve here too."""

from tests.actions.conftest import live, upstream  # noqa: F401
