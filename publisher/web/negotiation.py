"""Which representation to send: the table of offered formats and the choice over Accept."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import LanguageAccept, MIMEAccept
from werkzeug.http import parse_options_header

from publisher.formats import RDF_FORMATS

__all__ = [
    "HTML",
    "JSONLD",
    "LANGUAGES",
    "OFFERS",
    "Offer",
    "choose",
    "choose_language",
    "offer_by_name",
    "offer_by_suffix",
    "without_parameters",
]

LANGUAGES = ("de", "en")


@dataclass(frozen=True)
class Offer:
    """One representation a document can be sent in."""

    name: str
    label: str
    media_type: str
    accepts: tuple[str, ...]
    suffix: str
    rdflib_format: str | None

    @property
    def content_type(self) -> str:
        """The Content-Type header value (UTF-8 for the text types)."""
        if self.media_type.startswith("text/"):
            return f"{self.media_type}; charset=utf-8"
        return self.media_type

    @property
    def is_rdf(self) -> bool:
        """Whether this is an RDF serialisation (not the HTML page)."""
        return self.rdflib_format is not None


_RDFLIB = {"turtle": "turtle", "jsonld": "json-ld", "rdfxml": "pretty-xml", "ntriples": "nt"}
# Media types we also take as asking for a format, beyond those in publisher.formats:
# plain JSON clients get JSON-LD (it is JSON), and N3 clients get Turtle (a subset of N3).
_EXTRA = {"jsonld": ("application/json",), "turtle": ("text/n3",)}

HTML = Offer("html", "HTML", "text/html", ("text/html", "application/xhtml+xml"), "html", None)

# Order matters: on equal quality and specificity the earlier one wins, so a client
# that sends only */* gets Turtle, and a browser (which names text/html) gets HTML.
OFFERS: tuple[Offer, ...] = (
    *(Offer(f.name, f.label, f.media_type, (*f.media_types, *_EXTRA.get(f.name, ())),
            f.suffix, _RDFLIB[f.name])
      for f in RDF_FORMATS if f.graph),
    HTML,
)


JSONLD = next(o for o in OFFERS if o.name == "jsonld")


def offer_by_suffix(suffix: str) -> Offer | None:
    """The offer behind a suffix URL (ttl, jsonld, rdf, nt, html)."""
    return next((o for o in OFFERS if o.suffix == suffix), None)


def offer_by_name(name: str) -> Offer | None:
    """The offer with this short name (turtle, jsonld, rdfxml, ntriples, html)."""
    return next((o for o in OFFERS if o.name == name), None)


_UTF8 = ("utf-8", "utf8")


def without_parameters(accept: MIMEAccept) -> MIMEAccept:
    """The Accept header's media ranges with their parameters dropped (quality kept).

    werkzeug's MIMEAccept matches a range only when its parameters equal ours exactly, and
    we offer bare types: `text/turtle; charset=utf-8` or `application/ld+json;
    profile="…#compacted"` would then match nothing and get 406 (or, on /sparql, a format
    the client did not ask for). Every parameter clients send us either asks for what we
    send anyway (charset=utf-8: all our text is UTF-8) or is a preference we may ignore
    (JSON-LD's profile: JSON-LD 1.1 §9.1 lets a server send any form, all are the same
    graph). So ranges match on type/subtype alone, as most RDF servers do. The one
    parameter we cannot honour is a charset other than UTF-8: such a range is left out, so
    it is not taken as accepting what we would send. werkzeug still parses the header,
    ranks and matches; this only rewrites the ranges it parsed.
    """
    if not accept.provided or not any(";" in value for value, _quality in accept):
        return accept
    ranges = []
    for value, quality in accept:
        media_type, params = parse_options_header(value)
        if params.get("charset", "utf-8").strip().lower() not in _UTF8:
            continue
        ranges.append((media_type, quality))
    return MIMEAccept(ranges)


def choose(accept: MIMEAccept, offers: tuple[Offer, ...] = OFFERS) -> Offer | None:
    """The best offer for an Accept header, or None when nothing offered is acceptable.

    werkzeug ranks by quality, then by specificity (text/turtle beats */*), then by our order.
    A missing Accept header means */*; parameters of media ranges are ignored (see
    without_parameters).
    """
    if not accept.provided or not list(accept):
        return offers[0]
    accept = without_parameters(accept)
    # A client that refuses one name of a format (text/turtle;q=0) refuses the format,
    # though */* would let an alias (application/x-turtle) through werkzeug's match.
    refused = {value.lower() for value, quality in accept if quality <= 0 and "*" not in value}
    by_type: dict[str, Offer] = {}
    for offer in offers:
        if refused.intersection(offer.accepts):
            continue
        for media_type in offer.accepts:
            by_type.setdefault(media_type, offer)
    best = accept.best_match(list(by_type))
    return by_type[best] if best is not None else None


def choose_language(requested: str | None, accept: LanguageAccept,
                    languages: tuple[str, ...] = LANGUAGES) -> str:
    """The page language: ?lang= if it names one we have, else Accept-Language, else German."""
    if requested:
        tag = requested.strip().lower()[:2]
        if tag in languages:
            return tag
    if accept.provided:
        best = accept.best_match(languages)
        if best:
            return best
    return languages[0]
