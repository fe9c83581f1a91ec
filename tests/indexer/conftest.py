from __future__ import annotations

import pytest

from tests.conftest import create_database, drop_database


@pytest.fixture
def clean_db(pg_server, migrated_template):
    """A second fresh migrated database (the reference side of a comparison)."""
    url = create_database(pg_server, migrated_template)
    yield url
    drop_database(pg_server, url)
