"""The resources blueprint."""

from __future__ import annotations

from flask import Blueprint, Flask

__all__ = ["bp", "init_app"]

bp = Blueprint("resources", __name__)


def init_app(app: Flask) -> None:
    """Register the resources routes on the app."""
    app.register_blueprint(bp)
