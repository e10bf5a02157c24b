"""Shared fixtures: AGENTSTORE_TEST_DSN names a database where
CREATE EXTENSION agentstore has been run."""

import os

import pytest

DSN = os.environ.get("AGENTSTORE_TEST_DSN")


@pytest.fixture(scope="session")
def dsn() -> str:
    if not DSN:
        pytest.fail("AGENTSTORE_TEST_DSN is not set (a database with the agentstore extension)")
    return DSN
