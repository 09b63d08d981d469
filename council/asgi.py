"""Project wiring: the ASGI entry point, HTTP to Django, websockets to meetings."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from council.limits import BodyLimitMiddleware, guard_daphne  # noqa: E402
from meetings.live import serving  # noqa: E402
from meetings.routing import websocket_urlpatterns  # noqa: E402

# Request bodies above MAX_REQUEST_BYTES are refused before Daphne or Django
# keep them (council.limits).
guard_daphne()

# serving: the live sitting's pushes wait on this server's event loop. Every
# websocket's origin is checked here; the routes say which need the session
# (meetings.routing).
application = serving(
    ProtocolTypeRouter(
        {
            "http": BodyLimitMiddleware(django_asgi_app),
            "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
        }
    )
)
