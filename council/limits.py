"""Project wiring: HTTP request bodies are bounded before they cost memory.

``settings.MAX_REQUEST_BYTES`` bounds every request body, at two levels:

- ``BodyLimitMiddleware`` (ASGI, whatever the server) answers 413 to a request
  whose Content-Length is above the limit without reading its body, and stops
  a body that grows past it while it streams in (chunked uploads).
- Daphne receives a request's whole body (into a temporary file) before it
  calls the application, then queues all of it in memory at once: a 1 GB POST
  cost 1 GB whatever the application did. ``guard_daphne`` has Daphne build
  its requests from ``BoundedWebRequest``, which answers 413 as soon as the
  headers announce too much, or as soon as a chunked body passes the limit,
  then closes the connection without keeping what arrives meanwhile.

The reverse proxy's ``client_max_body_size`` (README) is the first of these
limits; these hold when the application is reached some other way.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

REQUEST_TOO_LARGE = _("The request is too large (at most %(limit)s MB).")
# How long a refused connection may keep sending before it is cut.
LINGER_SECONDS = 5


def _language(headers) -> str:
    """The language a refused request asked for (cookie, then Accept-Language)."""
    cookie_name = settings.LANGUAGE_COOKIE_NAME.encode()
    for name, value in headers:
        if name.lower() == b"cookie":
            for part in value.split(b";"):
                key, _sep, code = part.strip().partition(b"=")
                if key == cookie_name:
                    try:
                        return translation.get_supported_language_variant(
                            code.decode("ascii")
                        )
                    except (LookupError, UnicodeDecodeError):
                        pass
    for name, value in headers:
        if name.lower() == b"accept-language":
            for code, _quality in translation.trans_real.parse_accept_lang_header(
                value.decode("latin-1")
            ):
                try:
                    return translation.get_supported_language_variant(code)
                except LookupError:
                    continue
    return settings.LANGUAGE_CODE


def refusal_body(headers, limit: int) -> bytes:
    with translation.override(_language(headers)):
        text = gettext(REQUEST_TOO_LARGE) % {"limit": max(1, limit // (1024 * 1024))}
    return (text + "\n").encode()


def _declared_length(headers) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """ASGI: a request body above ``limit`` bytes gets 413, unread or cut."""

    def __init__(self, app, limit: int | None = None) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit or settings.MAX_REQUEST_BYTES
        declared = _declared_length(scope["headers"])
        if declared is not None and declared > limit:
            return await self._refuse(scope, send, limit)

        received = 0
        cut = False
        started = False

        async def bounded_receive():
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # The application sees the client go away; nothing more
                    # of the body is read or kept.
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                if cut:
                    return
                started = True
            elif cut and not started:
                return
            await send(message)

        await self.app(scope, bounded_receive, tracked_send)
        if cut and not started:
            await self._refuse(scope, send, limit)

    async def _refuse(self, scope, send, limit: int) -> None:
        body = refusal_body(scope["headers"], limit)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def guard_daphne(limit: int | None = None) -> None:
    """Have Daphne refuse too large bodies before it receives them."""
    from daphne import http_protocol

    if issubclass(http_protocol.WebRequest, BoundedWebRequestBase):
        return
    bounded = type(
        "BoundedWebRequest",
        (BoundedWebRequestBase, http_protocol.WebRequest),
        {"max_bytes": limit or settings.MAX_REQUEST_BYTES},
    )
    # HTTPFactory.buildProtocol looks the class up here for each connection.
    http_protocol.WebRequest = bounded


class BoundedWebRequestBase:
    """Mixed into Daphne's WebRequest by ``guard_daphne``."""

    max_bytes: int
    refused = False
    received = 0

    def gotLength(self, length):
        if length is not None and length > self.max_bytes:
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self.refused:
            return
        self.received += len(data)
        if self.received > self.max_bytes:
            self.content.close()
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if self.refused:
            return
        super().requestReceived(command, path, version)

    def _refuse(self) -> None:
        self.refused = True
        self.content = io.BytesIO()
        # No "100 Continue" after the answer: the client must not send on.
        self.requestHeaders.removeHeader(b"expect")
        headers = [
            (name, value)
            for name, values in self.requestHeaders.getAllRawHeaders()
            for value in values
        ]
        body = refusal_body(headers, self.max_bytes)
        transport = self.channel.transport
        transport.write(
            b"HTTP/1.1 413 Content Too Large\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(body) + body
        )
        # Half-close: the answer reaches the client, which stops sending and
        # closes; what it sends meanwhile is read and dropped, for a while.
        if hasattr(transport, "loseWriteConnection"):
            transport.loseWriteConnection()
        else:
            transport.loseConnection()
        from twisted.internet import reactor

        reactor.callLater(LINGER_SECONDS, _abort, transport)


def _abort(transport) -> None:
    if getattr(transport, "connected", False):
        transport.abortConnection()
