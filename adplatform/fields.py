"""Model fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import models
from pydantic import SecretStr

from adplatform.crypto import decrypt_text, encrypt_text


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with adplatform.crypto; the Python value is a `SecretStr`.

    `SecretStr` prints as '**********', so a key that reaches a template, the admin, a
    serializer, a log line or an exception message shows stars, not the secret; callers that
    really need it say so with `.get_secret_value()`. The field is not editable, so model
    forms never render it: forms offer their own write-only input. The ciphertext is
    randomised, so the column cannot be filtered or made unique.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        # Migrations record only what differs from this field's own defaults (which differ
        # from TextField's, so super() cannot tell).
        field_defaults = {"editable": True, "blank": False, "default": models.NOT_PROVIDED}
        for key, own_default in (("editable", False), ("blank", True), ("default", "")):
            value = kwargs.get(key, field_defaults[key])
            if value == own_default:
                kwargs.pop(key, None)
            else:
                kwargs[key] = value
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> SecretStr:
        if not value:
            return SecretStr("")
        return SecretStr(decrypt_text(value))

    def to_python(self, value: Any) -> SecretStr:
        if isinstance(value, SecretStr):
            return value
        return SecretStr("" if value is None else str(value))

    def get_prep_value(self, value: Any) -> str:
        secret = self.to_python(value).get_secret_value()
        # An empty secret stays empty so "no key" is visible without decrypting.
        return encrypt_text(secret) if secret else ""


def reveal(value: SecretStr | str | None) -> str:
    """The plain secret, whether the attribute was loaded (SecretStr) or just assigned (str)."""
    if value is None:
        return ""
    return value.get_secret_value() if isinstance(value, SecretStr) else value
