"""Secret settings never show their value: not in the settings' repr, not in a validation error."""

from __future__ import annotations

import pytest

from bithedge.settings import SettingsError, load_settings


def test_secret_setting_is_hidden_in_repr_and_in_errors(monkeypatch):
    key = "hiro-secret-5d2e"
    assert key not in repr(load_settings(indexer_api_key=key))
    with pytest.raises(SettingsError) as err:
        load_settings(indexer_api_key=["not", "a", key])  # wrong type: reported, value hidden
    assert "BITHEDGE_INDEXER_API_KEY=(hidden)" in str(err.value) and key not in str(err.value)
