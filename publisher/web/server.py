"""Run the app under a production WSGI server (waitress)."""

from __future__ import annotations

from flask import Flask

__all__ = ["run"]


def run(app: Flask, settings) -> None:
    """Serve the app with waitress until interrupted; SIGHUP (or a new build, with
    reload_on_change) swaps in a new build once it checks out."""
    import logging
    import signal

    from waitress import serve

    from publisher.web.reloading import reloader_for
    from publisher.web.security import MAX_HEADER_BYTES

    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    reloader = reloader_for(app)
    reloader.start(watch=settings.reload_on_change)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: reloader.request())
    serve(app, host=settings.host, port=settings.port, threads=settings.threads,
          ident="kiezgraph", clear_untrusted_proxy_headers=True,
          max_request_header_size=4 * MAX_HEADER_BYTES,
          max_request_body_size=settings.max_body_bytes)
