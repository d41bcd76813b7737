"""The multi-host fixtures (network namespaces); see tests/fixtures/hosts.py."""

from fixtures.hosts import network  # noqa: F401  (the fixture)
