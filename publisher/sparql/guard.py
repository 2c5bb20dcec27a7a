"""Check a query before any engine sees it: a read-only query, no SERVICE, within the size cap.

The check parses the text with rdflib's SPARQL 1.1 grammar, whatever engine evaluates it
afterwards (pyoxigraph in-process or a remote store), so every engine gets the same
guarantees: updates (including LOAD) never parse as a query and are refused; SERVICE is
refused wherever it is nested, so the server never fetches a URL on a user's behalf; and
vendor extensions that fetch data (e.g. Virtuoso's `DEFINE get:soft`) are not SPARQL 1.1
and fail to parse.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass

from pyparsing import ParseBaseException
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

__all__ = [
    "FORMS",
    "PARSER_LOCK",
    "CheckedQuery",
    "QueryRefused",
    "QueryRejected",
    "QueryTooLong",
    "check",
]

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
# rdflib's SPARQL grammar is one shared pyparsing object, and pyparsing is not thread-safe:
# two requests parsing at once corrupt its parse actions ("postParse2() missing 1 required
# positional argument"), after which every parse fails. Whoever parses SPARQL with rdflib
# in the server holds this lock (found by bench/loadtest.py at 8 concurrent clients).
PARSER_LOCK = threading.Lock()
_FORM_OF = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
            "DescribeQuery": "DESCRIBE"}


class QueryRejected(ValueError):
    """The text is not an acceptable SPARQL query (answered with a 4xx)."""

    status = 400

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class QueryRefused(QueryRejected):
    """A well-formed request this endpoint will not run: an update or SERVICE."""

    status = 403


class QueryTooLong(QueryRejected):
    """The query text exceeds max_query_length."""

    status = 413


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the guard, with what the endpoint needs to know about it."""

    text: str
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    has_dataset: bool  # FROM / FROM NAMED in the query

    @property
    def is_graph(self) -> bool:
        """Whether the answer is RDF (CONSTRUCT, DESCRIBE) rather than a results table."""
        return self.form in ("CONSTRUCT", "DESCRIBE")


def _walk(node):
    """Every CompValue in a parse tree (the tree mixes CompValues, lists and dicts)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif hasattr(item, "asList") and not isinstance(item, str):
            stack.extend(list(item))


def _position(exc: ParseBaseException) -> tuple[str, int, int]:
    """The parser's message without its own position suffix, and line/column (1-based)."""
    message = re.sub(r"\s*\(at char \d+\), \(line:\d+, col:\d+\)$", "", str(exc)).strip()
    return message, exc.lineno, exc.col


def _is_update(text: str) -> bool:
    """Whether the text parses as SPARQL Update (with rdflib's grammar)."""
    try:
        with PARSER_LOCK:
            parseUpdate(text)
    except ParseBaseException:
        return False
    except Exception:  # rdflib raises assorted errors on odd update text; none is a query
        return False
    return True


@functools.lru_cache(maxsize=512)
def _check(text: str) -> CheckedQuery:
    try:
        with PARSER_LOCK:
            tree = parseQuery(text)
    except ParseBaseException as exc:
        if _is_update(text):
            raise QueryRefused("SPARQL Update is not accepted: this endpoint is read-only "
                               "(no INSERT, DELETE, LOAD, CLEAR, CREATE, DROP, COPY, MOVE, "
                               "ADD).") from None
        message, line, column = _position(exc)
        raise QueryRejected(f"SPARQL syntax error at line {line}, column {column}: "
                            f"{message}", line, column) from None
    except Exception as exc:  # rdflib turns some bad input into other errors (e.g. prefixes)
        raise QueryRejected(f"SPARQL syntax error: {exc}") from None
    query = tree[1]
    form = _FORM_OF.get(query.name)
    if form is None:
        raise QueryRejected(f"not a SPARQL query form: {query.name}")
    has_dataset = bool(dict.get(query, "datasetClause"))  # CompValue.get echoes missing keys
    for node in _walk(query):
        if node.name == "ServiceGraphPattern":
            raise QueryRefused("SERVICE is not accepted: this endpoint does not query other "
                               "endpoints on a user's behalf. Run the federated part on "
                               "your side.")
    return CheckedQuery(text=text, form=form, has_dataset=has_dataset)


def check(text: str, max_length: int | None = None) -> CheckedQuery:
    """Parse and check one query; raise QueryRejected (or a subclass) when it is not allowed."""
    if max_length is not None and len(text) > max_length:
        raise QueryTooLong(f"the query is {len(text)} characters long; this endpoint accepts "
                           f"at most {max_length}")
    if not text.strip():
        raise QueryRejected("the query is empty")
    return _check(text)
