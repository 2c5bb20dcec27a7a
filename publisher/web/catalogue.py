"""The catalogue blueprint."""

from __future__ import annotations

from flask import Blueprint, Flask

__all__ = ["bp", "init_app"]

bp = Blueprint("catalogue", __name__)


def init_app(app: Flask) -> None:
    """Register the catalogue routes on the app."""
    app.register_blueprint(bp)
