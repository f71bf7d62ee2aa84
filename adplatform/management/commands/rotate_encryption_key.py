from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from adplatform.encryption import rotate_encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the newest key (the first in "
        "FIELD_ENCRYPTION_KEY). Put the new key first, keep the old ones after it, run "
        "this, then drop the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for label, count in rotate_encrypted_fields().items():
            self.stdout.write(f"{label}: {count} value(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS("Every secret now uses the newest key."))
