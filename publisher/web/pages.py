"""The pages blueprint."""

from __future__ import annotations

from flask import Blueprint, Flask

__all__ = ["bp", "init_app"]

bp = Blueprint("pages", __name__)


def init_app(app: Flask) -> None:
    """Register the pages routes on the app."""
    app.register_blueprint(bp)


@bp.get("/health")
def health():
    """Liveness: 200 with the triple count and build id once the graph is loaded."""
    from publisher.web.state import served

    state = served()
    published = state.published
    return {"status": "ok", "build_id": published.build_id,
            "triples": published.store.triple_count(), "store": published.store.name}
