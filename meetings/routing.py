from django.urls import path

from meetings import consumers

websocket_urlpatterns = [
    path("ws/sitting/<int:meeting_id>/", consumers.SittingConsumer.as_asgi()),
    path(
        "ws/sitting/<int:meeting_id>/public/",
        consumers.PublicSittingConsumer.as_asgi(),
    ),
]
