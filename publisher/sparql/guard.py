r"""Check a query before any engine sees it: a read-only query, no SERVICE, within the size cap.

Two checks, each with the guarantees the engine behind it needs:

- `check` parses the text with rdflib's SPARQL 1.1 grammar. It guards a remote store
  (Virtuoso & co.): updates (including LOAD) never parse as a query and are refused;
  SERVICE is refused wherever it is nested; vendor pragmas (Virtuoso's `DEFINE get:soft`)
  are not SPARQL 1.1 and fail to parse; a call of a function by IRI is refused unless the
  IRI is one SPARQL defines (publisher.sparql.functions: deny by default, on rdflib's
  algebra, so `bif:http_get` is refused in every spelling); and the letters `bif:` and
  `sql:` are refused anywhere in the text. `\u` escapes are expanded once, as SPARQL 1.1
  (§19.2) and rdflib read them, and the store is sent that text (`CheckedQuery.text`), so
  the store cannot read a string or comment where the check read code (issue #26's
  `"\u005C"`). The parse runs in a killable parser process (publisher.sparql.strict)
  within a time limit, never in the web process: rdflib takes seconds on some texts and
  parses one text at a time per process.
- `scan` guards the embedded pyoxigraph store, which parses the query itself when it
  evaluates it. pyoxigraph's `Store.query` accepts queries only (an update is a syntax
  error there), reads FROM graphs from the store (it never fetches them), and has no
  extension that fetches except SERVICE. So all `scan` has to find is SERVICE, and it does
  so with a token scanner that follows pyoxigraph's own token rules (see "the scanner"
  below), never with another parser: a second reading that differs from the engine's is how
  issue #14's SERVICE got through. It is linear in the text, takes no lock and is cheap
  enough to run before admission (0.1 ms for a typical query, ~1 ms for 20,000 characters
  of punctuation); rdflib's parse costs 40-130 ms per query and seconds on some texts.
  Every query passes `scan` before admission, whatever the store.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass

from rdflib.plugins.sparql.parser import expandUnicodeEscapes

from publisher.sparql.errors import QueryTimeout
from publisher.sparql.functions import VENDOR_TEXT
from publisher.sparql.strict import (
    FORMS,
    NO_SERVICE,
    READ_ONLY,
    ParseOutcome,
    ParseTimeout,
    pool,
)

__all__ = [
    "FORMS",
    "CheckedQuery",
    "QueryRefused",
    "QueryRejected",
    "QueryTooLong",
    "check",
    "scan",
    "syntax_error",
]

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
    deterministic: bool = True  # no RAND(), NOW(), UUID(), STRUUID(): an answer may be reused
    # the graphs of FROM and FROM NAMED, prefixed names resolved (found by `check` only)
    dataset: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    @property
    def is_graph(self) -> bool:
        """Whether the answer is RDF (CONSTRUCT, DESCRIBE) rather than a results table."""
        return self.form in ("CONSTRUCT", "DESCRIBE")


_OUTCOMES: dict[str, ParseOutcome] = {}  # text -> outcome of the full parse (a small LRU)
_OUTCOMES_LOCK = threading.Lock()  # guards the dict only, never held during a parse
_OUTCOMES_MAX = 512


def _outcome(text: str, timeout: float) -> ParseOutcome:
    """The full parse's outcome for a text: remembered, or asked of a parser process."""
    with _OUTCOMES_LOCK:
        found = _OUTCOMES.pop(text, None)
        if found is not None:
            _OUTCOMES[text] = found  # most recently used last
            return found
    try:
        found = pool().parse(text, timeout)
    except ParseTimeout as exc:
        raise QueryTimeout(str(exc)) from None
    with _OUTCOMES_LOCK:
        _OUTCOMES[text] = found
        while len(_OUTCOMES) > _OUTCOMES_MAX:
            del _OUTCOMES[next(iter(_OUTCOMES))]
    return found


def _sized(text: str, max_length: int | None) -> None:
    if max_length is not None and len(text) > max_length:
        raise QueryTooLong(f"the query is {len(text)} characters long; this endpoint accepts "
                           f"at most {max_length}")
    if not text.strip():
        raise QueryRejected("the query is empty")


_ESCAPE = re.compile(r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}")


def _expanded(text: str) -> str:
    """The text with `\\u` escapes expanded, as rdflib (and SPARQL 1.1, §19.2) reads it;
    refused when it names a vendor's functions or still holds an escape (one that expanding
    made, which a store expanding again would read otherwise)."""
    try:
        expanded = expandUnicodeEscapes(text)
    except ValueError as exc:
        raise QueryRejected(f"SPARQL syntax error: {exc}") from None
    if VENDOR_TEXT.search(expanded):
        raise QueryRejected(_NO_VENDOR)
    if expanded != text and _ESCAPE.search(expanded):
        raise QueryRejected("SPARQL syntax error: an escape sequence (\\u…) spells another "
                            "escape sequence; write the character itself")
    return expanded


def check(text: str, max_length: int | None = None, timeout: float = 10.0) -> CheckedQuery:
    """Parse and check one query with the full SPARQL 1.1 grammar; raise QueryRejected (or a
    subclass) when it is not allowed, QueryTimeout when parsing takes over timeout seconds.

    For a remote store: call it once the query holds a slot (it costs a parse in a parser
    process). SERVICE is refused if either pyoxigraph's reading (the scanner) or rdflib's
    finds it. The CheckedQuery's text is the text as checked (its escapes expanded): send
    that one to the store, not the original.
    """
    _sized(text, max_length)
    lexed = _lex(text)
    _service_check(text, lexed)  # pyoxigraph's reading of the text as sent
    expanded = _expanded(text)
    if expanded != text:  # and of the text as read by rdflib and then by the store
        text, lexed = expanded, _lex(expanded)
        _service_check(text, lexed)
    found = _outcome(text, timeout)
    if found[0] == "rejected":
        _, status, message, line, column = found
        kind = {403: QueryRefused, 413: QueryTooLong}.get(status, QueryRejected)
        raise kind(message, line, column)
    _, form, has_dataset, dataset = found
    return CheckedQuery(text=text, form=form, has_dataset=has_dataset,
                        deterministic=lexed.deterministic, dataset=dataset)


# --- the scanner (for pyoxigraph) --------------------------------------------------------
#
# pyoxigraph 0.5 does not give Python its SPARQL parser (no Query type, no parse function:
# only Store.query, which evaluates), so the scanner reads the text the way pyoxigraph's
# parser does (spargebra 0.5, a PEG grammar) - never with another parser, whose reading may
# differ (rdflib expands \u escapes across the whole text; pyoxigraph only inside strings
# and IRIs, which is how issue #14's query reached pyoxigraph's HTTP client). Its tokens
# mirror spargebra's rules: whitespace is only space, tab, CR and LF; `#` comments run to
# the end of the line; long strings are tried before short ones; escapes count only inside
# strings (ECHAR, UCHAR) and IRIs (UCHAR), and `\'` and `\#` inside a prefixed name
# (PN_LOCAL_ESC) start neither a string nor a comment; PN_LOCAL takes at most one run of
# dots (spargebra's rule). Keywords match case-insensitively with no word boundary
# (`SERVICEsilent<…>`, `trueSERVICE<…>` are SERVICE clauses to pyoxigraph), so any bare
# word holding the letters "service" is refused.
#
# Where two readings are possible the scanner assumes the worse one:
# - `<` is an IRI's start or "less than" (inside an expression, after an operand). Where an
#   IRI stands in that place, the two readings may tokenise the rest differently, and the
#   brackets counted from there on may be wrong (issue #24: `1<2&&(3>0)` read as an IRI lost
#   a bracket, and a later `'…#'` hid SERVICE): from there on any "service" is refused,
#   whatever the IRI holds.
# - A prefixed name is tried as a whole (PNAME_LN) and, when its IRI is not valid, as the
#   prefix alone with the rest read as code: `PREFIX p: <http://h:>` makes `p:SERVICE<…>`
#   a SERVICE clause. A name holding the letters "service" passes only when that cannot
#   happen: its local part is plain ASCII (letters, digits, `_`, `-`) and its prefix IRI
#   ends in `/` or `#` (prefixes not declared in the query are the server's own, which do).
# - A character no token can start (a stray backslash, an unterminated string) makes the
#   rest unknown: any "service" after it is refused (pyoxigraph rejects such text anyway).
# The seccomp sandbox of the query workers (publisher.sparql.sandbox) is the wall that
# holds should this reading and pyoxigraph's ever differ.

_UNSURE_SERVICE = (NO_SERVICE + " (The letters \"service\" appear where this endpoint cannot "
                   "tell a keyword from a name or a string; write the query more plainly.)")
_NO_VENDOR = ("a store's own functions (the letters \"bif:\" or \"sql:\") are not accepted: this "
              "endpoint allows SPARQL 1.1's built-in functions and the XSD casts only, and "
              "refuses these letters anywhere in a query, strings and comments included.")
_UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY",
                           "MOVE", "ADD", "WITH"})
_VOLATILE = frozenset({"RAND", "NOW", "UUID", "STRUUID"})
_SERVICE = re.compile("service", re.IGNORECASE)

# spargebra 0.5's character classes (its PN_CHARS_BASE has no astral planes)
_BASE = ("A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff"
         "\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd")
_U = _BASE + "_"
_CHARS = _U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"""%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"""
_ECHAR = r"""\\[tbnrf"'\\]"""
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_VARCHARS = _U + "0-9\u00b7\u0300-\u036f\u203f-\u2040"
_LOCAL = rf"(?:[{_U}:0-9]|{_PLX})(?:[{_CHARS}:]|{_PLX})*+(?:\.++(?:[{_CHARS}:]|{_PLX})++)?+"
_TOKEN = re.compile("|".join([
    r"(?P<ws>[ \t\r\n]++)",
    r"(?P<comment>#[^\r\n]*+)",
    # possessive and atomic where spargebra's PEG rules commit (no backtracking)
    rf"(?P<string>'''(?:(?>''|')?+(?:[^'\\]|{_ECHAR}|{_UCHAR}))*+'''"
    rf'|"""(?:(?>""|")?+(?:[^"\\]|{_ECHAR}|{_UCHAR}))*+"""'
    rf"|'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*+'"
    rf'|"(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*+")',
    rf'(?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*+>)',
    # Runs of what cannot hide a keyword, start a string, comment or IRI, or change a later
    # token - spaces, digits, punctuation, brackets, variables - are read in one match:
    # the scan stays linear and fast on a text of 20,000 commas or parentheses.
    rf"(?P<run>(?:[ \t\r\n0-9,;.+\-*/=!&()\[\]{{}}]|[?$][0-9{_U}][{_VARCHARS}]*+)++)",
    rf"(?P<bnode>_:[0-9{_U}][{_CHARS}]*+(?:\.++[{_CHARS}]++)*+)",
    rf"(?P<pname>(?P<prefix>[{_BASE}][{_CHARS}]*+(?:\.++[{_CHARS}]++)*+)?:(?P<local>{_LOCAL})?)",
    r"(?P<langtag>@[A-Za-z]++(?:-[A-Za-z0-9]++)*+)",
    rf"(?P<word>[{_U}][{_CHARS}]*+)",
    r"(?P<punct>\^\^|\|\||<=|>=|<<\(|<<|>>|\|\}|[<>^|~?])",
]))
# Last characters of a token after which `<` cannot be "less than" (an operand follows)
_OPERATORS = frozenset("(,=<>!+-*/&|^")
_OPENS, _CLOSES = frozenset("([{"), frozenset(")]}")
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class _Lexed:
    """What the scanner read: the significant tokens and where the reading became unsure."""

    # (kind, offset, text), no whitespace/comments; kind is the name of the token's group
    # (re types lastgroup as optional: every alternative of _TOKEN is a named group)
    tokens: tuple[tuple[str | None, int, str], ...]
    service_at: int | None  # offset of a SERVICE keyword (or what may be one), else None
    unsure_at: int | None  # from here on, pyoxigraph may read the text otherwise
    deterministic: bool


def _lex(text: str) -> _Lexed:
    """Tokenise the text as pyoxigraph does; note SERVICE and where the reading is unsure."""
    tokens: list[tuple[str | None, int, str]] = []
    declared: dict[str, list[str]] = {}
    brackets: list[str] = []
    service_at = unsure_at = None
    pos, size = 0, len(text)
    mentions_service = _SERVICE.search(text) is not None  # nearly every query: no
    while pos < size:
        match = _TOKEN.match(text, pos)
        if match is None:  # nothing pyoxigraph could read here: the rest is unknown
            unsure_at = pos if unsure_at is None else unsure_at
            tokens.append(("junk", pos, text[pos]))
            pos += 1
            continue
        kind, value, at = match.lastgroup, match.group(), pos
        pos = match.end()
        if kind == "ws" or kind == "comment":
            continue
        if kind == "run":
            for char in value:
                if char in _OPENS:
                    brackets.append(char)
                elif char in _CLOSES and brackets:
                    brackets.pop()
            tokens.append((kind, at, value.rstrip(" \t\r\n")))
            continue
        maybe_service = mentions_service and _SERVICE.search(value) is not None
        if kind == "word" and maybe_service:
            service_at = at if service_at is None else service_at
        elif (kind == "langtag" and maybe_service) or (
                kind == "pname" and maybe_service
                and not _plain_name(match["prefix"] or "", match["local"] or "", declared)) or (
                kind == "iri" and brackets[-1:] == ["("] and tokens
                and tokens[-1][2][-1:] not in _OPERATORS):
            unsure_at = at if unsure_at is None else unsure_at
        if value == "<<(":
            brackets.append("(")  # closed by the `)` of `)>>`
        elif value == "|}" and brackets:
            brackets.pop()  # opened by the `{` of `{|`
        elif kind == "iri" and len(tokens) >= 2 and tokens[-2][2].upper() == "PREFIX" \
                and tokens[-1][0] == "pname":
            declared.setdefault(tokens[-1][2][:-1], []).append(value[1:-1])
        tokens.append((kind, at, value))
    deterministic = not any(k == "word" and v.upper() in _VOLATILE for k, _, v in tokens)
    return _Lexed(tuple(tokens), service_at, unsure_at, deterministic)


def _plain_name(prefix: str, local: str, declared: dict[str, list[str]]) -> bool:
    """Whether a prefixed name holding "service" is surely read as one name by pyoxigraph."""
    if _SERVICE.search(prefix) and prefix not in declared:
        return False  # an unknown prefix leaves other readings (`trueSERVICE:x`)
    if not _SERVICE.search(local):
        return True
    if not _PLAIN_LOCAL.fullmatch(local):
        return False
    return all(iri.endswith(("/", "#")) for iri in declared.get(prefix, ["/"]))


def _form(lexed: _Lexed, size: int) -> tuple[str | None, int]:
    """The first keyword after the prologue (BASE, PREFIX, VERSION), and its offset."""
    tokens, i = lexed.tokens, 0
    while i < len(tokens):
        kind, offset, value = tokens[i]
        word = value.upper() if kind == "word" else None
        if word == "PREFIX":
            i += 3  # PREFIX pname: <iri>
        elif word in ("BASE", "VERSION"):
            i += 2
        else:
            return word, offset
    return None, size


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _service_check(text: str, lexed: _Lexed) -> None:
    """Raise QueryRefused when pyoxigraph may read a SERVICE clause in the text."""
    if lexed.service_at is not None:
        raise QueryRefused(NO_SERVICE)
    if lexed.unsure_at is not None and _SERVICE.search(text, lexed.unsure_at):
        raise QueryRefused(_UNSURE_SERVICE)


@functools.lru_cache(maxsize=512)
def _scan(text: str) -> CheckedQuery:
    lexed = _lex(text)
    _service_check(text, lexed)
    form, offset = _form(lexed, len(text))
    if form in _UPDATE_WORDS:
        raise QueryRefused(READ_ONLY)
    if form not in FORMS:
        line, column = _line_column(text, offset)
        raise QueryRejected(f"SPARQL syntax error at line {line}, column {column}: expected "
                            "SELECT, ASK, CONSTRUCT or DESCRIBE", line, column)
    has_dataset = any(k == "word" and v.upper() == "FROM" for k, _, v in lexed.tokens)
    return CheckedQuery(text=text, form=form, has_dataset=has_dataset,
                        deterministic=lexed.deterministic)


def scan(text: str, max_length: int | None = None) -> CheckedQuery:
    """Check a query for pyoxigraph, which parses it itself: no SERVICE, no update.

    Other syntax errors are left to the engine; `syntax_error` turns its message into a
    QueryRejected with line and column.
    """
    _sized(text, max_length)
    return _scan(text)


_OX_POSITION = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)


def syntax_error(message: str) -> QueryRejected:
    """A QueryRejected (400) from pyoxigraph's syntax error message ("error at L:C: …")."""
    found = _OX_POSITION.fullmatch(message.strip())
    if found is None:
        return QueryRejected(f"SPARQL syntax error: {message}")
    line, column, detail = int(found[1]), int(found[2]), found[3]
    return QueryRejected(f"SPARQL syntax error at line {line}, column {column}: {detail}",
                         line, column)
