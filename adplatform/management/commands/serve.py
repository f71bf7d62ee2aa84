from __future__ import annotations

from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

from adplatform.embedded_beat import start_embedded_beat


class Command(BaseCommand):
    help = "Serve HTTP and WebSocket from one ASGI process (the embedded profile's server)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-beat", action="store_true", help="Do not run the scheduler in this process."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if (settings.EMBEDDED_BEAT or settings.CELERY_TASK_ALWAYS_EAGER) and not options["no_beat"]:
            start_embedded_beat()
        self.stdout.write(f"Serving on http://{options['host']}:{options['port']}/")
        uvicorn.run(
            "adplatform.asgi:application",
            host=options["host"],
            port=options["port"],
            log_level="info",
            lifespan="off",
        )
