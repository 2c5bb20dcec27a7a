"""Run the app under a production WSGI server (waitress)."""

from __future__ import annotations

from flask import Flask

__all__ = ["run"]


def run(app: Flask, settings) -> None:
    """Serve the app with waitress until interrupted."""
    from waitress import serve

    serve(app, host=settings.host, port=settings.port, threads=settings.threads,
          ident="kiezgraph", clear_untrusted_proxy_headers=True)
