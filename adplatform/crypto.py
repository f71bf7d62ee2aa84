"""Encryption of secrets at rest (platform tokens, LLM keys, webhook secrets).

`FIELD_ENCRYPTION_KEY` holds one or more Fernet keys, comma-separated: the first encrypts,
all decrypt, so a key is rotated by putting the new one first and re-saving
(`python manage.py rotate_encryption_key`). In development with no key set, a key is
derived from SECRET_KEY so the demo works out of the box; production requires a real key.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(key_setting: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in key_setting.split(",") if k.strip()]
    if not keys:
        derived = hashlib.sha256(("adplatform-field-encryption:" + secret_key).encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key.encode()) for key in keys])


def get_fernet() -> MultiFernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt_str(value: str) -> str:
    return get_fernet().encrypt(value.encode()).decode()


def decrypt_str(token: str) -> str:
    try:
        return get_fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Never include the token in the message: it is the secret, encrypted.
        raise DecryptionError(
            "Stored secret cannot be decrypted with the configured keys."
        ) from exc


def rotate_str(token: str) -> str:
    """Re-encrypt with the first (newest) key."""
    return get_fernet().rotate(token.encode()).decode()
