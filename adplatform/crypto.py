"""Symmetric encryption for secrets stored in the database (tokens, signing keys).

`settings.FIELD_ENCRYPTION_KEY` holds one or more Fernet keys, comma-separated: the first
encrypts, every one decrypts, so a key can be rotated by putting the new one first and
re-saving the rows. With no key set (the embedded default only; production refuses to
start without one) a key is derived from SECRET_KEY so the demo works out of the box.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """Stored ciphertext could not be read with any configured key."""


def _derived_development_key(secret_key: str) -> bytes:
    digest = hashlib.sha256(b"adplatform-field-encryption:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=4)
def _fernet(raw_keys: str, secret_key: str) -> MultiFernet:
    keys = [key.strip() for key in raw_keys.split(",") if key.strip()]
    if not keys:
        keys = [_derived_development_key(secret_key).decode()]
    return MultiFernet([Fernet(key.encode()) for key in keys])


def get_fernet() -> MultiFernet:
    # Cached per (keys, secret) so a settings override in tests takes effect.
    return _fernet(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt_str(plaintext: str) -> str:
    return get_fernet().encrypt(plaintext.encode()).decode()


def decrypt_str(ciphertext: str) -> str:
    try:
        return get_fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        # Never include the ciphertext or key material in the message.
        raise DecryptionError(
            "Stored secret cannot be decrypted with the configured keys."
        ) from exc


def rotate_str(ciphertext: str) -> str:
    """Re-encrypt with the first (newest) key."""
    return get_fernet().rotate(ciphertext.encode()).decode()
