"""When the store cannot be reached: 503 with Retry-After, in the format the client accepts.

Nothing is remembered between requests: the next request asks the store again, so serving
resumes by itself as soon as the store answers.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request

from publisher.store import StoreUnavailable
from publisher.web.http import error_response

__all__ = ["RETRY_AFTER", "init_app"]

RETRY_AFTER = 30  # seconds; a store restart usually takes about this long
log = logging.getLogger(__name__)


def _unavailable(exc: StoreUnavailable) -> Response:
    # The reason names the store's URL (never its credentials): for the log, not the client.
    log.warning("store unavailable on %s %s: %s", request.method, request.path, exc)
    response = error_response(503, "Der Datenspeicher ist gerade nicht erreichbar; bitte "
                                   "später erneut versuchen. / The data store cannot be "
                                   "reached right now; please try again later.",
                              headers={"Retry-After": str(RETRY_AFTER)})
    response.cache_control.no_store = True
    return response


def init_app(app: Flask) -> None:
    """Answer StoreUnavailable (more specific than http's StoreError handler) with a 503."""
    app.register_error_handler(StoreUnavailable, _unavailable)
