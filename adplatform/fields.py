"""Model fields shared by every app."""

from __future__ import annotations

from typing import Any

from django.db import models

from adplatform.crypto import decrypt_str, encrypt_str


class EncryptedTextField(models.TextField):
    """Text stored encrypted with `adplatform.crypto`; Python code sees the plaintext.

    It cannot be filtered or indexed on (the ciphertext changes on every save). Keep it out
    of `list_display`, serializers and `__str__`: it holds secrets.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_str(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_str(str(value))
