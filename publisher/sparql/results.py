"""SPARQL answer formats: which ones each query form offers, and serialising a capped answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring as _quote
from typing import TypeAlias, TypedDict, TypeVar

import pyoxigraph as ox

from publisher.formats import (
    DERIVED_DATATYPES,
    RDF_FORMATS,
    RESULT_FORMATS,
    TRIG,
    RdfFormatInfo,
    ResultFormatInfo,
)

__all__ = [
    "ASK_VARIABLE",
    "CONSTRUCT_FORMATS",
    "GRAPH_FORMATS",
    "TABLE_FORMATS",
    "EngineResult",
    "NotSerialisable",
    "Serialised",
    "Term",
    "TermJson",
    "carries_prefixes",
    "format_by_media_type",
    "format_by_name",
    "formats_for",
    "serialise",
    "term_json",
]

TABLE_FORMATS: tuple[ResultFormatInfo, ...] = RESULT_FORMATS
GRAPH_FORMATS: tuple[RdfFormatInfo, ...] = tuple(f for f in RDF_FORMATS if f.graph)
# A CONSTRUCT/DESCRIBE answer is a graph, which N-Quads and TriG also carry (every triple
# in the default graph): a client asking for them gets them, not Turtle under another name.
CONSTRUCT_FORMATS: tuple[RdfFormatInfo, ...] = (
    *GRAPH_FORMATS, *(f for f in RDF_FORMATS if f.name == "nquads"), TRIG)
# SPARQL 1.1's CSV/TSV formats define SELECT answers only. An ASK answer in them is sent as
# a one-column, one-row table, the column named _askResult (Apache Jena's convention): what
# CSV/TSV readers such as rdflib's parse. A bare `true` (pyoxigraph's) is not a table.
ASK_VARIABLE = "_askResult"

# Names that clients put in a `format` parameter, beyond each format's own name and
# suffix: SPARQLWrapper sends its return-format names (json, xml, n3, json-ld, rdf+xml…),
# Virtuoso users write media types. The same word means the matching format per form.
_TABLE_ALIASES = {"srj": "json", "srx": "xml", "sparql-results+json": "json",
                  "sparql-results+xml": "xml"}
_GRAPH_ALIASES = {"ttl": "turtle", "n3": "turtle", "json-ld": "jsonld", "json": "jsonld",
                  "rdf": "rdfxml", "xml": "rdfxml", "rdf+xml": "rdfxml", "nt": "ntriples",
                  "n-triples": "ntriples", "nq": "nquads", "n-quads": "nquads"}

Format = ResultFormatInfo | RdfFormatInfo
_F = TypeVar("_F", bound=Format)
_T = TypeVar("_T")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# An RDF term as pyoxigraph gives it in a solution or a triple (RDF 1.2: triple terms too).
Term: TypeAlias = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
# One term in the SPARQL 1.1 JSON results form: "type", "value", maybe "xml:lang" or
# "datatype"; a triple term's value holds its subject, predicate and object the same way.
TermJson: TypeAlias = dict[str, "str | dict[str, TermJson]"]
# What `serialise` is given: pyoxigraph's answer to a query (solutions, a boolean or
# triples), or a remote store's triples once parsed.
EngineResult: TypeAlias = ox.QuerySolutions | ox.QueryBoolean | Iterable[ox.Triple]


def formats_for(form: str) -> tuple[Format, ...]:
    """The formats a query form can be answered in, the default first."""
    return CONSTRUCT_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else TABLE_FORMATS


def carries_prefixes(media_type: str) -> bool:
    """Whether an answer in this media type can use the release's prefixes: not a table
    (SELECT/ASK results), which never declares any. Lets a store leave ~40 prefixes out of
    every small SELECT's job to its worker."""
    return (_by_media_type(TABLE_FORMATS, media_type) is None
            or _by_media_type(CONSTRUCT_FORMATS, media_type) is not None)


def _by_media_type(formats: tuple[_F, ...], media_type: str) -> _F | None:
    """The format among these served under a media type, if any."""
    media_type = media_type.split(";")[0].strip().lower()
    for fmt in formats:
        if media_type in fmt.media_types:
            return fmt
    return None


def format_by_name(form: str, name: str) -> Format | None:
    """The format a `format` parameter value names for this query form (name or media type)."""
    name = name.strip().lower()
    if "/" in name:
        return format_by_media_type(form, name)
    is_graph = form in ("CONSTRUCT", "DESCRIBE")
    name = (_GRAPH_ALIASES if is_graph else _TABLE_ALIASES).get(name, name)
    for fmt in formats_for(form):
        if name in (fmt.name, fmt.suffix):
            return fmt
    return None


def format_by_media_type(form: str, media_type: str) -> Format | None:
    """The format of this query form served under a media type, if any."""
    return _by_media_type(formats_for(form), media_type)


@dataclass(frozen=True)
class Serialised:
    """Bytes of an answer, its media type, how many rows/triples, whether it was cut."""

    body: bytes
    media_type: str
    count: int
    truncated: bool


def term_json(term: Term) -> TermJson:
    """One RDF term in the SPARQL 1.1 JSON results form."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: TermJson = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": term_json(term.subject),
                                            "predicate": term_json(term.predicate),
                                            "object": term_json(term.object)}}
    raise TypeError(f"unsupported term {term!r}")


def _term_text(term: Term) -> str:
    """One RDF term as the JSON text of its SPARQL 1.1 JSON results object."""
    # Written out as text rather than built as a dict and handed to json.dumps: for an
    # answer of hundreds of rows this is 2-3x faster, and json's C string escaper keeps
    # the escaping exactly json.dumps's. The output is byte-identical to term_json's.
    # `type(term) is` (pyoxigraph's classes are final) is as fast as isinstance, and
    # narrows the term's type for mypy.
    if type(term) is ox.NamedNode:
        return '{"type":"uri","value":' + _quote(term.value) + "}"
    if type(term) is ox.Literal:
        language = term.language
        if language:
            return ('{"type":"literal","value":' + _quote(term.value) + ',"xml:lang":'
                    + _quote(language) + "}")
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return '{"type":"literal","value":' + _quote(term.value) + "}"
        return ('{"type":"literal","value":' + _quote(term.value) + ',"datatype":'
                + _quote(datatype) + "}")
    if type(term) is ox.BlankNode:
        return '{"type":"bnode","value":' + _quote(term.value) + "}"
    return json.dumps(term_json(term), ensure_ascii=False, separators=(",", ":"))


class NotSerialisable(ValueError):
    """The answer holds terms the asked format cannot write (RDF 1.2 triple terms in
    JSON-LD): the client should ask for another format (406)."""


def _value_chars(term: Term) -> int:
    """Characters of a term's lexical form: a lower bound of its bytes in any format,
    known before the term is written out (a huge literal is never quoted to be dropped)."""
    value = getattr(term, "value", None)
    return len(value) if isinstance(value, str) else len(str(term))


def _bindings(variables: list[str], solutions: Iterable[ox.QuerySolution], max_results: int,
              max_bytes: int) -> tuple[list[bytes], bool]:
    """Up to max_results solutions as SPARQL JSON binding objects holding at most about
    max_bytes together; whether the answer was cut (by rows or by bytes)."""
    names = [_quote(name) + ":" for name in variables]
    rows: list[bytes] = []
    left = max_bytes if max_bytes > 0 else None
    for row in solutions:  # a solution iterates over its values in the order of the variables
        if len(rows) == max_results:
            return rows, True
        values = list(row)
        if left is not None and sum(_value_chars(v) for v in values if v is not None) > left:
            return rows, True
        text = ("{" + ",".join([name + _term_text(value)
                                for name, value in zip(names, values, strict=True)
                                if value is not None]) + "}").encode("utf-8")
        if left is not None:
            left -= len(text) + 1
            if left < 0:
                return rows, True
        rows.append(text)
    return rows, False


def _solutions_json(variables: list[str], rows: list[bytes]) -> bytes:
    """SELECT solutions (binding objects from _bindings) as SPARQL 1.1 JSON results.

    Written here because pyoxigraph serialises only a whole QuerySolutions iterator and
    cannot be handed a capped list of solutions; the JSON form is then re-read by
    pyoxigraph for the other formats, so those stay pyoxigraph's own serialisers.
    """
    head = json.dumps({"vars": variables}, ensure_ascii=False, separators=(",", ":"))
    return (b'{"head":' + head.encode("utf-8") + b',"results":{"bindings":['
            + b",".join(rows) + b"]}}")


def _fit(items: list[_T], write: Callable[[list[_T]], bytes],
         max_bytes: int) -> tuple[list[_T], bytes]:
    """Items written by write(items), fewer until the bytes fit max_bytes (0: no limit).

    The cut before writing is by an estimate (the JSON form, lexical forms); another
    format may write the same items longer (SPARQL XML, RDF/XML): drop the tail in
    proportion until the body fits.
    """
    body = write(items)
    while max_bytes > 0 and len(body) > max_bytes and items:
        keep = min(len(items) - 1, len(items) * max_bytes // len(body))
        items = items[:keep]
        body = write(items)
    return items, body


class _SerializeOptions(TypedDict, total=False):
    """The keyword arguments `serialise` passes to pyoxigraph's serialize beyond the format."""

    prefixes: dict[str, str]


def serialise(result: EngineResult, media_type: str, max_results: int,
              prefixes: dict[str, str] | None = None, max_bytes: int = 0) -> Serialised:
    """Serialise a pyoxigraph query result in media_type, keeping at most max_results items
    and, when max_bytes is set, at most max_bytes bytes (cut items end the answer early
    and mark it truncated, as the row cut does).

    A media type that does not fit the result's form falls back to that form's default.
    """
    if isinstance(result, ox.QueryBoolean):
        fmt = _by_media_type(TABLE_FORMATS, media_type) or TABLE_FORMATS[0]
        if fmt.name in ("csv", "tsv"):
            return Serialised(_ask_table(bool(result), fmt.name), fmt.media_type, 1, False)
        # pyoxigraph's stubs type serialize() as `bytes | None` for every call; without an
        # `output` it always returns the bytes.
        return Serialised(result.serialize(format=fmt.oxigraph),  # type: ignore[arg-type]
                          fmt.media_type, 1, False)
    if isinstance(result, ox.QuerySolutions):
        fmt = _by_media_type(TABLE_FORMATS, media_type) or TABLE_FORMATS[0]
        variables = [v.value for v in result.variables]
        head = len(_solutions_json(variables, []))
        rows, truncated = _bindings(variables, result, max_results,
                                    max(1, max_bytes - head) if max_bytes > 0 else 0)

        def write(kept: list[bytes]) -> bytes:
            body = _solutions_json(variables, kept)
            if fmt.oxigraph != ox.QueryResultsFormat.JSON:
                body = ox.parse_query_results(  # type: ignore[assignment]  # as above
                    body, format=ox.QueryResultsFormat.JSON).serialize(format=fmt.oxigraph)
            return body

        kept_rows, body = _fit(rows, write, max_bytes)
        return Serialised(body, fmt.media_type, len(kept_rows),
                          truncated or len(kept_rows) < len(rows))
    rdf_fmt = _by_media_type(CONSTRUCT_FORMATS, media_type) or GRAPH_FORMATS[0]
    triples, truncated = _triples(result, max_results, max_bytes)
    triples = _restore_datatypes(triples)
    options: _SerializeOptions = {}
    if prefixes and rdf_fmt.name in ("turtle", "rdfxml", "jsonld", "trig"):
        options["prefixes"] = prefixes
    if rdf_fmt.name == "jsonld" and any(isinstance(t.subject, ox.Triple)
                                        or isinstance(t.object, ox.Triple) for t in triples):
        raise NotSerialisable("JSON-LD cannot hold the triple terms (RDF 1.2) of this answer; "
                              "ask for Turtle, N-Triples or RDF/XML")

    def write_graph(kept: list[ox.Triple]) -> bytes:
        return ox.serialize(  # type: ignore[return-value]  # bytes without `output`, as above
            kept, format=rdf_fmt.oxigraph, **options)

    kept, body = _fit(triples, write_graph, max_bytes)
    return Serialised(body, rdf_fmt.media_type, len(kept),
                      truncated or len(kept) < len(triples))



_DERIVED = {ox.NamedNode(p): ox.NamedNode(d) for p, d in DERIVED_DATATYPES.items()}
_XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def _restore_datatypes(triples: list[ox.Triple]) -> list[ox.Triple]:
    """The triples with the datatypes the store dropped put back (see DERIVED_DATATYPES)."""
    if not any(t.predicate in _DERIVED for t in triples):
        return triples
    restored: list[ox.Triple] = []
    for triple in triples:
        datatype = _DERIVED.get(triple.predicate)
        value = triple.object
        if datatype is not None and isinstance(value, ox.Literal) \
                and value.datatype == _XSD_INTEGER and not value.value.startswith("-"):
            triple = ox.Triple(triple.subject, triple.predicate,
                               ox.Literal(value.value, datatype=datatype))
        restored.append(triple)
    return restored


def _ask_table(value: bool, name: str) -> bytes:
    """An ASK answer as a CSV or TSV table of one variable and one row (see ASK_VARIABLE)."""
    word = "true" if value else "false"
    if name == "csv":  # CSV: plain names and values, CRLF line ends (RFC 4180)
        return f"{ASK_VARIABLE}\r\n{word}\r\n".encode("ascii")
    return f"?{ASK_VARIABLE}\n{word}\n".encode("ascii")  # TSV: ?var, then a boolean literal


def _triples(result: Iterable[ox.Triple], max_results: int,
             max_bytes: int) -> tuple[list[ox.Triple], bool]:
    """Up to max_results triples whose terms' lexical forms hold at most max_bytes
    together; whether the answer was cut."""
    triples: list[ox.Triple] = []
    left = max_bytes if max_bytes > 0 else None
    for triple in result:
        if len(triples) == max_results:
            return triples, True
        if left is not None:
            left -= sum(_value_chars(t) for t in (triple.subject, triple.predicate,
                                                  triple.object)) + 6
            if left < 0:
                return triples, True
        triples.append(triple)
    return triples, False
