"""The full SPARQL 1.1 parse of `guard.check` (rdflib's), in processes that can be killed.

rdflib's parser takes seconds on some texts (issue #14: 15.7 s for a long `IN` list), is not
thread-safe (one parse at a time per process), and recurses. So untrusted text is never
parsed in the web process: each parse runs in one of a few parser processes, at most as
many at once as there are callers (the endpoint calls it inside a query slot), within a time
limit after which the process is killed and a fresh one started on the next call. A parser
process runs under the same network sandbox as the query workers where the system has one
(a parse fetches nothing, so elsewhere it runs without) and exits with its parent.

Started through publisher.children as `python -m publisher.sparql.strict FD PARENT`; asked
`{"text": …}`, it answers with `parse_in_process`'s tuple as a JSON list, which the web
process checks field by field: nothing a parser process sends is executed (no pickle).
guard imports this module, never the other way round.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeAlias

from pyparsing import ParseBaseException
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from publisher import children
from publisher.children import Member
from publisher.sparql.functions import refused_function

__all__ = [
    "FORMS",
    "NO_FUNCTION",
    "NO_SERVICE",
    "READ_ONLY",
    "ParseAccepted",
    "ParseOutcome",
    "ParseRejected",
    "ParseTimeout",
    "ParserPool",
    "parse_in_process",
    "pool",
]

log = logging.getLogger(__name__)
_RECURSION_LIMIT = 4000  # rdflib's grammar recurses per nesting level; deeper is refused


FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_FORM_OF = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
            "DescribeQuery": "DESCRIBE"}

# The words a refusal is given in, by this parse and by guard's scanner alike.
NO_SERVICE = ("SERVICE is not accepted: this endpoint does not query other endpoints on a "
               "user's behalf. Run the federated part on your side.")
NO_FUNCTION = ("the function <{iri}> is not accepted: this endpoint allows SPARQL 1.1's "
                "built-in functions and the XSD casts, no store's own extensions.")
READ_ONLY = ("SPARQL Update is not accepted: this endpoint is read-only (no INSERT, DELETE, "
              "LOAD, CLEAR, CREATE, DROP, COPY, MOVE, ADD).")

# What `parse_in_process` answers, as plain data that crosses the process boundary as a JSON
# list (checked field by field by `_outcome`): ("ok", form, has_dataset, (default graphs,
# named graphs)) or ("rejected", status, message, line, column).
ParseAccepted: TypeAlias = tuple[Literal["ok"], str, bool, tuple[tuple[str, ...], tuple[str, ...]]]
ParseRejected: TypeAlias = tuple[Literal["rejected"], int, str, int | None, int | None]
ParseOutcome: TypeAlias = ParseAccepted | ParseRejected


def _walk(node: object) -> Iterator[CompValue]:
    """Every CompValue in a parse tree (the tree mixes CompValues, lists and dicts)."""
    stack: list[Any] = [node]  # pyparsing's trees hold anything: every item is tested
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
        parseUpdate(text)
    except ParseBaseException:
        return False
    except Exception:  # rdflib raises assorted errors on odd update text; none is a query
        return False
    return True


def _dataset(algebra: CompValue) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The graphs of a translated query's FROM and FROM NAMED clauses (names resolved)."""
    # dict.get: CompValue.get answers a missing key with the key's name
    clauses = dict.get(algebra, "datasetClause") or []
    defaults = tuple(str(c["default"]) for c in clauses if dict.get(c, "default") is not None)
    named = tuple(str(c["named"]) for c in clauses if dict.get(c, "named") is not None)
    return defaults, named


def _called(algebra: CompValue) -> Iterator[object]:
    """The IRIs of every function called by IRI in a translated query (rdflib names SPARQL's
    own built-ins Builtin_*, aggregates Aggregate_*; a call by IRI is a `Function`)."""
    for node in _walk(algebra):
        if node.name == "Function":
            yield dict.get(node, "iri")


def parse_in_process(text: str) -> ParseOutcome:
    """rdflib's full parse of a query, as plain data (run in a parser process, never in the
    web process): ("ok", form, has_dataset, (default graphs, named graphs)) or
    ("rejected", status, message, line, column)."""
    try:
        tree = parseQuery(text)
    except ParseBaseException as exc:
        if _is_update(text):
            return ("rejected", 403, READ_ONLY, None, None)
        message, line, column = _position(exc)
        return ("rejected", 400, f"SPARQL syntax error at line {line}, column {column}: "
                f"{message}", line, column)
    except RecursionError:
        return ("rejected", 400, "SPARQL syntax error: the query is nested too deeply",
                None, None)
    except Exception as exc:  # rdflib turns some bad input into other errors (e.g. prefixes)
        return ("rejected", 400, f"SPARQL syntax error: {exc}", None, None)
    query = tree[1]
    form = _FORM_OF.get(query.name)
    if form is None:
        return ("rejected", 400, f"not a SPARQL query form: {query.name}", None, None)
    if any(node.name == "ServiceGraphPattern" for node in _walk(query)):
        return ("rejected", 403, NO_SERVICE, None, None)
    has_dataset = bool(dict.get(query, "datasetClause"))  # CompValue.get echoes missing keys
    try:
        # the algebra resolves prefixed names: an undeclared prefix is a 400, as in pyoxigraph
        algebra = translateQuery(tree).algebra
    except Exception as exc:  # any failure here is the query's: a 400
        return ("rejected", 400, f"SPARQL syntax error: {exc}", None, None)
    refused = refused_function(_called(algebra))
    if refused is not None:
        return ("rejected", 400, NO_FUNCTION.format(iri=refused), None, None)
    return ("ok", form, has_dataset, _dataset(algebra) if has_dataset else ((), ()))


class ParseTimeout(RuntimeError):
    """The parse outlived its time limit and was stopped."""


_PARSER = "publisher.sparql.strict"  # the module a parser process runs
_UNPARSABLE: ParseRejected = (
    "rejected", 400, "the query could not be parsed (nested too deeply?)", None, None)


def _start() -> children.Child:
    return children.spawn(_PARSER)


def _outcome(answer: Any) -> ParseOutcome:
    """parse_in_process's tuple from a parser process's JSON; ProtocolError for anything
    that is not one (guard.check relies on the types)."""
    match answer:
        case ["ok", str(form), bool(has_dataset), [list(defaults), list(named)]] \
                if form in FORMS and all(isinstance(g, str) for g in defaults + named):
            return ("ok", form, has_dataset, (tuple(defaults), tuple(named)))
        case ["rejected", int(status), str(message), line, column] \
                if status in (400, 403, 413) and all(
                    p is None or type(p) is int for p in (line, column)):
            return ("rejected", status, message, line, column)
    raise children.ProtocolError("not an outcome of parse_in_process")


class ParserPool:
    """Parser processes started on demand, reused while they behave, killed when late."""

    def __init__(self) -> None:
        self._pool = children.Pool(_start, name="SPARQL parser process")

    def parse(self, text: str, timeout: float) -> ParseOutcome:
        """`parse_in_process(text)` in a parser process, within timeout seconds."""
        parser = self._pool.take()
        try:
            answer, _ = parser.request({"text": text},
                                       deadline=time.monotonic() + max(0.0, timeout))
            outcome = _outcome(answer)
        except children.Deadline:
            self._pool.replace(parser)
            raise ParseTimeout(f"parsing the query took longer than {timeout:g} s") from None
        except children.Gone:
            # the process died (a C stack overflow on absurd nesting, say): the text is bad
            self._pool.replace(parser)
            return _UNPARSABLE
        except children.ProtocolError as exc:
            log.error("SPARQL parser process %s sent %s; replacing it", parser.pid, exc)
            self._pool.replace(parser)
            return _UNPARSABLE
        self._pool.put(parser)
        return outcome

    def members(self) -> list[Member]:
        """Every parser process with its state: "idle" or "busy" (parsing)."""
        return self._pool.members()

    def wait_until(self, condition: Callable[[list[Member]], bool], timeout: float) -> bool:
        """Wait until condition(members()) holds, for at most timeout seconds (see
        publisher.children.Pool.wait_until); whether it held."""
        return self._pool.wait_until(condition, timeout)

    def close(self) -> None:
        """Stop every parser process."""
        self._pool.close()


_POOL: ParserPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> ParserPool:
    """The process's parser pool (started on first use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ParserPool()
        return _POOL


def _serve(channel: children.Channel) -> None:
    """Answer parse requests until the channel closes (the process ends with its parent:
    publisher.children.attach)."""
    from publisher.sparql.sandbox import SandboxError, confine

    # It parses untrusted text: no network for it either, where the system allows. rdflib's
    # parser fetches nothing, so unlike a query worker it may run without the filter.
    with contextlib.suppress(SandboxError, OSError, AttributeError):
        confine()
    sys.setrecursionlimit(_RECURSION_LIMIT)
    while True:
        try:
            request, _ = channel.receive()
        except children.Gone:
            return
        channel.send(list(parse_in_process(request["text"])))


if __name__ == "__main__":
    channel, _ = children.attach(sys.argv[1:])
    # rdflib's recursion needs a deep C stack: run in a thread with 256 MiB of it.
    threading.stack_size(256 << 20)
    runner = threading.Thread(target=_serve, args=(channel,))
    runner.start()
    runner.join()
