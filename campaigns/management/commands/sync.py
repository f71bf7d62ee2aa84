from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import SyncKind
from campaigns.services.sync import list_connections_due, sync_connection
from integrations.clients.errors import RetryablePlatformError
from integrations.models import Connection


class Command(BaseCommand):
    help = (
        "Sync connections now, in this process: structure and daily metrics. Without "
        "--connection, every connection that is due (not waiting on a quota or re-auth)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--connection", type=int, help="Connection id.")
        parser.add_argument(
            "--since", type=dt.date.fromisoformat, help="First day to read (YYYY-MM-DD)."
        )
        parser.add_argument("--kind", choices=SyncKind.values, default=SyncKind.FULL)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["connection"]:
            if not Connection.objects.filter(pk=options["connection"]).exists():
                raise CommandError(f"No connection {options['connection']}.")
            ids = [options["connection"]]
        else:
            ids = list_connections_due()
        failed = 0
        for connection_id in ids:
            try:
                outcome = sync_connection(
                    connection_id=connection_id,
                    kind=options["kind"],
                    since=options["since"],
                    trigger="command",
                    requested_by="manage.py sync",
                )
            except RetryablePlatformError as exc:
                failed += 1
                self.stderr.write(f"connection {connection_id}: {exc} (run again to continue)")
                continue
            if outcome.run is None:
                self.stdout.write(f"connection {connection_id}: skipped ({outcome.skipped})")
                continue
            run = outcome.run
            line = (
                f"connection {connection_id}: {run.status}, {run.rows} rows, "
                f"{run.restated_rows} restated"
            )
            if run.error:
                failed += 1
                line += f": {run.error}"
            self.stdout.write(line)
        if failed:
            raise CommandError(f"{failed} connection(s) did not sync.")
