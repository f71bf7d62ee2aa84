"""Secrets at rest: encrypted in the database, masked in Python, rotatable."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from pydantic import SecretStr

from adplatform.crypto import DecryptionError, decrypt_text, encrypt_text, rotate_token
from agents.models import LLMProviderConfig
from tests.agents.factories import LLMProviderConfigFactory

SECRET = "sk-live-abcdefghijklmnopqrstuvwxyz"


def stored_column(config: LLMProviderConfig) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT api_key FROM {LLMProviderConfig._meta.db_table} WHERE id = %s", [config.pk]
        )
        return cursor.fetchone()[0]


def test_an_api_key_is_stored_encrypted_and_read_back(organization):
    config = LLMProviderConfigFactory(organization=organization, api_key=SecretStr(SECRET))

    raw = stored_column(config)
    reloaded = LLMProviderConfig.objects.get(pk=config.pk)

    assert SECRET not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert reloaded.api_key.get_secret_value() == SECRET


def test_an_api_key_prints_as_stars(organization):
    config = LLMProviderConfigFactory(organization=organization, api_key=SecretStr(SECRET))
    reloaded = LLMProviderConfig.objects.get(pk=config.pk)

    assert SECRET not in f"{reloaded.api_key} {reloaded.api_key!r} {vars(reloaded)}"


def test_an_empty_key_stays_empty_in_the_database(organization):
    config = LLMProviderConfigFactory(organization=organization, api_key=SecretStr(""))

    assert stored_column(config) == ""
    assert LLMProviderConfig.objects.get(pk=config.pk).has_api_key is False


def test_keys_rotate_newest_first(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old_key
    token = encrypt_text(SECRET)

    # Given the new key in front of the old one
    settings.FIELD_ENCRYPTION_KEY = f"{new_key},{old_key}"
    # Then old tokens still decrypt, and rotation re-encrypts them under the new key
    assert decrypt_text(token) == SECRET
    rotated = rotate_token(token)
    settings.FIELD_ENCRYPTION_KEY = new_key
    assert decrypt_text(rotated) == SECRET
    with pytest.raises(DecryptionError):
        decrypt_text(token)


def test_a_wrong_key_fails_without_revealing_anything(settings):
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    token = encrypt_text(SECRET)
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()

    with pytest.raises(DecryptionError) as raised:
        decrypt_text(token)

    assert token not in str(raised.value)
    assert settings.FIELD_ENCRYPTION_KEY not in str(raised.value)
