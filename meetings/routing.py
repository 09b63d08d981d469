from channels.auth import AuthMiddlewareStack
from django.urls import path

from meetings import consumers

websocket_urlpatterns = [
    # A member's socket: the session and its user are read at connect.
    path(
        "ws/sitting/<int:meeting_id>/",
        AuthMiddlewareStack(consumers.SittingConsumer.as_asgi()),
    ),
    # The public gallery asks nobody's identity: no session or user lookup,
    # which in a storm of reconnects would queue on the one sync thread.
    path(
        "ws/sitting/<int:meeting_id>/public/",
        consumers.PublicSittingConsumer.as_asgi(),
    ),
]
