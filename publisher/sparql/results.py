"""SPARQL answer formats: which ones each query form offers, and serialising a capped answer."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from json.encoder import encode_basestring as _quote

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
    "Serialised",
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
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def formats_for(form: str) -> tuple[Format, ...]:
    """The formats a query form can be answered in, the default first."""
    return CONSTRUCT_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else TABLE_FORMATS


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
    media_type = media_type.split(";")[0].strip().lower()
    for fmt in formats_for(form):
        if media_type in fmt.media_types:
            return fmt
    return None


@dataclass(frozen=True)
class Serialised:
    """Bytes of an answer, its media type, how many rows/triples, whether it was cut."""

    body: bytes
    media_type: str
    count: int
    truncated: bool


def term_json(term) -> dict:
    """One RDF term in the SPARQL 1.1 JSON results form."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
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


def _term_text(term) -> str:
    """One RDF term as the JSON text of its SPARQL 1.1 JSON results object."""
    # Written out as text rather than built as a dict and handed to json.dumps: for an
    # answer of hundreds of rows this is 2-3x faster, and json's C string escaper keeps
    # the escaping exactly json.dumps's. The output is byte-identical to term_json's.
    kind = type(term)
    if kind is ox.NamedNode:
        return '{"type":"uri","value":' + _quote(term.value) + "}"
    if kind is ox.Literal:
        language = term.language
        if language:
            return ('{"type":"literal","value":' + _quote(term.value) + ',"xml:lang":'
                    + _quote(language) + "}")
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return '{"type":"literal","value":' + _quote(term.value) + "}"
        return ('{"type":"literal","value":' + _quote(term.value) + ',"datatype":'
                + _quote(datatype) + "}")
    if kind is ox.BlankNode:
        return '{"type":"bnode","value":' + _quote(term.value) + "}"
    return json.dumps(term_json(term), ensure_ascii=False, separators=(",", ":"))


def _solutions_json(variables: list[str], rows: Iterable) -> bytes:
    """SELECT solutions as SPARQL 1.1 JSON results.

    Written here because pyoxigraph serialises only a whole QuerySolutions iterator and
    cannot be handed a capped list of solutions; the JSON form is then re-read by
    pyoxigraph for the other formats, so those stay pyoxigraph's own serialisers.
    """
    names = [_quote(name) + ":" for name in variables]
    bindings = []
    for row in rows:  # a solution iterates over its values in the order of the variables
        bindings.append("{" + ",".join([name + _term_text(value)
                                        for name, value in zip(names, row, strict=True)
                                        if value is not None]) + "}")
    head = json.dumps({"vars": variables}, ensure_ascii=False, separators=(",", ":"))
    return ('{"head":' + head + ',"results":{"bindings":[' + ",".join(bindings)
            + "]}}").encode("utf-8")


def serialise(result, media_type: str, max_results: int,
              prefixes: dict[str, str] | None = None) -> Serialised:
    """Serialise a pyoxigraph query result in media_type, keeping at most max_results items.

    A media type that does not fit the result's form falls back to that form's default.
    """
    if isinstance(result, ox.QueryBoolean):
        fmt = format_by_media_type("ASK", media_type) or TABLE_FORMATS[0]
        if fmt.name in ("csv", "tsv"):
            return Serialised(_ask_table(bool(result), fmt.name), fmt.media_type, 1, False)
        return Serialised(result.serialize(format=fmt.oxigraph), fmt.media_type, 1, False)
    if isinstance(result, ox.QuerySolutions):
        fmt = format_by_media_type("SELECT", media_type) or TABLE_FORMATS[0]
        variables = [v.value for v in result.variables]
        rows = list(islice(result, max_results + 1))
        truncated = len(rows) > max_results
        rows = rows[:max_results]
        body = _solutions_json(variables, rows)
        if fmt.oxigraph != ox.QueryResultsFormat.JSON:
            body = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON).serialize(
                format=fmt.oxigraph)
        return Serialised(body, fmt.media_type, len(rows), truncated)
    fmt = format_by_media_type("CONSTRUCT", media_type) or GRAPH_FORMATS[0]
    triples = list(islice(result, max_results + 1))
    truncated = len(triples) > max_results
    triples = _restore_datatypes(triples[:max_results])
    kwargs = {}
    if prefixes and fmt.name in ("turtle", "rdfxml", "jsonld", "trig"):
        kwargs["prefixes"] = prefixes
    body = ox.serialize(triples, format=fmt.oxigraph, **kwargs)
    return Serialised(body, fmt.media_type, len(triples), truncated)


_DERIVED = {ox.NamedNode(p): ox.NamedNode(d) for p, d in DERIVED_DATATYPES.items()}
_XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def _restore_datatypes(triples: list) -> list:
    """The triples with the datatypes the store dropped put back (see DERIVED_DATATYPES)."""
    if not any(t.predicate in _DERIVED for t in triples):
        return triples
    restored = []
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
