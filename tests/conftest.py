"""Fixtures shared by all test folders; each server's fixture lives in tests/fixtures/."""

from fixtures.luigid import luigid_server  # noqa: F401  (a real luigid on 127.0.0.1)
