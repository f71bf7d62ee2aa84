"""Key rotation for every `EncryptedTextField` in every installed app."""

from __future__ import annotations

from django.apps import apps
from django.db import connection, transaction

from adplatform.crypto import rotate_token
from adplatform.fields import EncryptedTextField


def rotate_encrypted_fields() -> dict[str, int]:
    """Re-encrypt each stored secret with the newest key, row by row, in one transaction.

    Works on the stored ciphertext (never decrypting into a model), so it needs only that
    one of the configured keys can read each value. Returns counts by "app.Model.field".
    """
    counts: dict[str, int] = {}
    with transaction.atomic():
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            for field in fields:
                column = connection.ops.quote_name(field.column)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {pk}, {column} FROM {table} "  # noqa: S608 - quoted names
                        f"WHERE {column} IS NOT NULL AND {column} <> ''"
                    )
                    rows = cursor.fetchall()
                    updates = [(rotate_token(value), key) for key, value in rows]
                    cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", updates)
                counts[f"{model._meta.label}.{field.name}"] = len(updates)
    return counts
