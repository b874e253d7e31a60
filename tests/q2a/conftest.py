"""The Q2A source: the throwaway MariaDB of ``scripts/with-test-mariadb``."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def q2a_url() -> str:
    """The test MariaDB's URL; skips when MariaDB is not installed here (fails in CI)."""
    url = os.environ.get("QA_TEST_MARIADB_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("QA_TEST_MARIADB_URL is not set: CI must run the Q2A import's tests")
        pytest.skip("no MariaDB here (install mariadb-server; `make test` starts it)")
    return url
