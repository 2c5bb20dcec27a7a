"""The kinds blueprint: /doc/<kind>/ lists every thing of one kind by its label."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    redirect,
    render_template,
    request,
)
from werkzeug.wrappers import Response as BaseResponse

from publisher.iris import local_path, own_path
from publisher.listing import KIND_PATTERN, list_kind
from publisher.web.cache import Rendered, render_cache
from publisher.web.facts import kind_list_name
from publisher.web.http import page_language, send
from publisher.web.links import page_root, page_url
from publisher.web.state import served
from publisher.web.view import term_label

__all__ = ["bp", "init_app"]

bp = Blueprint("kinds", __name__)


def init_app(app: Flask) -> None:
    """Register the kind list routes on the app."""
    app.register_blueprint(bp)


# No automatic slash redirect: /doc/<anything> would answer 308 before the kind is checked.
@bp.get("/doc/<kind>/", strict_slashes=False)
def kind_list(kind: str) -> BaseResponse:
    """Every thing of one kind (id/<kind>/…), labelled in the page language, sorted."""
    if not KIND_PATTERN.fullmatch(kind):
        abort(404)
    if not request.path.endswith("/"):
        target = kind + "/"  # relative: stays under the sub-path a proxy serves us at
        if request.query_string:
            target += "?" + request.query_string.decode("latin-1")
        return redirect(target, code=308)
    state = served()
    published, base = state.published, state.settings.base_uri
    lang = page_language()
    keep_lang = bool(request.args.get("lang"))
    key = (published.build_id, "kind-list", kind, lang, keep_lang, request.url_root)

    def make() -> Rendered:
        listing = list_kind(published.store, base, kind)
        if listing is None:
            raise LookupError(kind)
        suffix = f"?lang={lang}" if keep_lang else ""
        members = [{"label": label, "href": page_root() + own_path(str(m), base) + suffix}
                   for m, label in listing.sorted(lang)]
        type_path = (local_path(str(listing.main_type), base)
                     if listing.main_type is not None else None)
        type_label = (term_label(listing.labels, listing.main_type, lang)
                      if listing.main_type is not None else None)
        html = render_template(
            "kind.html", lang=lang, kind=kind, title=kind_list_name(kind, lang),
            members=members, type_label=type_label,
            type_href=page_root() + type_path + suffix if type_path else None,
            home=page_root() + suffix,
            here=page_url("kinds.kind_list", kind=kind),
            other_lang="en" if lang == "de" else "de")
        return Rendered(html.encode("utf-8"), "text/html; charset=utf-8")

    try:
        rendered = render_cache().get_or_render(key, make)
    except LookupError:
        abort(404, description=f"Keine Dinge der Art „{kind}“. / No things of kind {kind!r}.")
    response = send(rendered, release=published.release)
    response.content_language = lang
    if not keep_lang:
        response.vary.add("Accept-Language")
    return response
