"""One ASGI application for HTTP and WebSocket."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")

# Django must be set up before anything imports models (the routing below does).
django_http = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from adplatform.routing import websocket_urlpatterns  # noqa: E402
from notifications.fanout import ServerSendInScope  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_http,
        "websocket": ServerSendInScope(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Everything loaded so far lives as long as the process. Freezing it keeps the collector's
# full passes (over ~260k startup objects, ~100 ms each) from stalling every socket of
# this process: a pause here delays every live event in flight.
gc.freeze()
