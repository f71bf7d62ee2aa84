"""Model fields for secrets: encrypted in the database, plain text in Python."""

from __future__ import annotations

from typing import Any

from django.db import models

from adplatform.crypto import decrypt_str, encrypt_str


class EncryptedTextField(models.TextField):
    """Stores a Fernet token; the admin and serializers must never display the value.

    Not searchable or orderable: the same plaintext encrypts differently every time.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_str(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_str(str(value))
