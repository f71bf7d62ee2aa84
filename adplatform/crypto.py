"""Symmetric encryption for secrets kept at rest (provider API keys, platform tokens).

Keys come from settings.FIELD_ENCRYPTION_KEY: one or more Fernet keys separated by commas.
The first key encrypts; every key decrypts, so a key is rotated by putting the new one in
front, re-encrypting (`rotate_token`), then dropping the old one. Without a configured key
(development and tests only; production refuses to start) a key is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key.

    The message never contains the ciphertext or the keys.
    """


def _derived_development_key(secret_key: str) -> bytes:
    # A domain-separated hash so the Fernet key is not the SECRET_KEY itself.
    digest = hashlib.sha256(b"adplatform.crypto.field-encryption:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@functools.lru_cache(maxsize=8)
def _fernet_for(configured_keys: str, secret_key: str) -> MultiFernet:
    raw_keys = [key.strip() for key in configured_keys.split(",") if key.strip()]
    if not raw_keys:
        return MultiFernet([Fernet(_derived_development_key(secret_key))])
    try:
        return MultiFernet([Fernet(key.encode()) for key in raw_keys])
    except ValueError as exc:
        # Fernet's own message is generic; never echo the key material.
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be comma-separated urlsafe base64 Fernet keys "
            "(generate one with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)."
        ) from exc


def _fernet() -> MultiFernet:
    # Keyed on the current setting values so tests that override settings get a new keyring.
    return _fernet_for(settings.FIELD_ENCRYPTION_KEY or "", settings.SECRET_KEY)


def encrypt_text(plaintext: str) -> str:
    """Encrypt `plaintext` with the first configured key; returns a text-safe token."""
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt_text(token: str) -> str:
    """Decrypt a token made by `encrypt_text` with any configured key."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError(
            "A stored secret could not be decrypted with the configured FIELD_ENCRYPTION_KEY."
        ) from exc


def rotate_token(token: str) -> str:
    """Re-encrypt a token under the first (newest) key, for key rotation."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError(
            "A stored secret could not be decrypted with the configured FIELD_ENCRYPTION_KEY."
        ) from exc
