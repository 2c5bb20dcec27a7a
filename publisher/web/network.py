"""The network blueprint: /network, the cooperation network as a picture."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template
from markupsafe import Markup

from publisher.diagram import map_svg, network_svg, read_network, read_places
from publisher.web.search import current_index, local_url, page_lang
from publisher.web.state import served

__all__ = ["bp", "init_app"]

bp = Blueprint("network", __name__)


def init_app(app: Flask) -> None:
    """Register the network routes on the app."""
    app.register_blueprint(bp)


@bp.get("/network")
def network():
    """The agreement, the collaboration and its partners by role; the map where data allows."""
    lang = page_lang()
    state = served()
    published = state.published
    index = current_index()
    net = read_network(published.store, state.settings.base_uri, index)
    places = read_places(published.store, state.settings.base_uri, index)
    picture = map_svg(places, lang=lang, href=local_url)
    return render_template(
        "network.html", lang=lang, net=net, href=local_url,
        svg=Markup(network_svg(net, lang=lang, href=local_url)),
        map=Markup(picture) if picture else None, places=places)


@bp.get("/network.svg")
def network_image():
    """The network picture alone, as an SVG image."""
    state = served()
    net = read_network(state.published.store, state.settings.base_uri, current_index())
    svg = network_svg(net, lang=page_lang(), href=local_url)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + svg,
                    mimetype="image/svg+xml", headers={"Vary": "Accept-Language"})
