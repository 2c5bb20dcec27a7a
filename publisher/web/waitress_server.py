"""waitress for `kiezgraph serve` (setting `server = "waitress"`), with the body deadline.

waitress reads each request whole on its event loop before a thread sees it, and writes
answers from buffers on that loop, so slow clients hold a connection, not a thread. Two
things it lacks are added here:

- a deadline for the body: waitress closes a connection only after `channel_timeout`
  seconds without a byte, so a client that sends a byte every few seconds could hold a body
  open for ever. A connection whose request is still arriving `body_timeout` seconds after
  it began is closed (checked each second);
- answers never wait for a slow reader: past `outbuf_high_watermark` waitress makes the
  app's thread wait until the client has read enough, and sixteen clients that never read
  a large answer would hold every thread. The mark is set out of reach: what a client does
  not read is spooled to a temporary file beyond 1 MB (`outbuf_overflow`), and the
  connection is closed after `send_timeout` seconds in which it took nothing.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server

from publisher.config import Settings
from publisher.web.security import MAX_HEADER_BYTES

__all__ = ["serve"]


class _Channel(HTTPChannel):
    """A connection that notes when its current request began to arrive."""

    request_began = 0.0

    def received(self, data: bytes) -> bool:
        """Read as waitress does; a request that starts now is timed from now."""
        fresh = self.request is None
        result: bool = super().received(data)
        if fresh and self.request is not None:
            self.request_began = time.monotonic()
        return result


def _deadline(server: Any, body_timeout: float) -> None:
    """Make server close connections whose request body outlives body_timeout."""
    plain = server.maintenance

    def maintenance(now: float) -> None:
        plain(now)
        cutoff = time.monotonic() - body_timeout
        for channel in list(server.active_channels.values()):
            request = getattr(channel, "request", None)
            if request is not None and not request.completed \
                    and getattr(channel, "request_began", 0.0) < cutoff:
                channel.will_close = True  # closed by the loop; no thread ever held it

    server.channel_class = _Channel
    server.maintenance = maintenance


def serve(app: Flask, settings: Settings) -> None:
    """Serve app with waitress until interrupted."""
    server = create_server(
        app, host=settings.host, port=settings.port, threads=settings.threads,
        ident="kiezgraph", clear_untrusted_proxy_headers=not settings.trusted_proxies,
        # Beyond connection_limit open connections waitress stops accepting: allow many.
        connection_limit=1000,
        max_request_header_size=4 * MAX_HEADER_BYTES,
        max_request_body_size=settings.max_body_bytes,
        channel_timeout=max(1, round(settings.send_timeout)),
        cleanup_interval=1,
        outbuf_high_watermark=1 << 62)
    servers = [server] if isinstance(server, BaseWSGIServer) else [
        each for each in (server.map or {}).values() if isinstance(each, BaseWSGIServer)]
    for each in servers:
        _deadline(each, settings.body_timeout)
    server.print_listen("Serving on http://{}:{}")
    server.run()
