"""Check a query before any engine sees it: a read-only query, no SERVICE, within the size cap.

Two checks, each with the guarantees the engine behind it needs:

- `check` parses the text with rdflib's SPARQL 1.1 grammar. It guards a remote store
  (Virtuoso & co.): updates (including LOAD) never parse as a query and are refused;
  SERVICE is refused wherever it is nested; and vendor extensions that fetch or read
  files (Virtuoso's `DEFINE get:soft`, its predeclared `bif:`/`sql:` functions) are not
  SPARQL 1.1 and fail to parse. A scanner cannot know every vendor's extensions, so the
  remote path keeps the full parse.
- `scan` guards the embedded pyoxigraph store, which parses the query itself when it
  evaluates it. pyoxigraph's `Store.query` accepts queries only (an update is a syntax
  error there), reads FROM graphs from the store (it never fetches them), and has no
  extension that fetches except SERVICE. So all `scan` has to find is SERVICE, and it does
  so with a small token scanner instead of a parser: rdflib's parse costs 40-130 ms per
  query, more than pyoxigraph takes to evaluate most of them (bench/FINDINGS.md).
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
    "scan",
    "syntax_error",
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
    deterministic: bool = True  # no RAND(), NOW(), UUID(), STRUUID(): an answer may be reused

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
            raise QueryRefused(_READ_ONLY) from None
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
            raise QueryRefused(_NO_SERVICE)
    return CheckedQuery(text=text, form=form, has_dataset=has_dataset,
                        deterministic=_lex(text).deterministic)


def _sized(text: str, max_length: int | None) -> None:
    if max_length is not None and len(text) > max_length:
        raise QueryTooLong(f"the query is {len(text)} characters long; this endpoint accepts "
                           f"at most {max_length}")
    if not text.strip():
        raise QueryRejected("the query is empty")


def check(text: str, max_length: int | None = None) -> CheckedQuery:
    """Parse and check one query; raise QueryRejected (or a subclass) when it is not allowed."""
    _sized(text, max_length)
    return _check(text)


# --- the scanner (for pyoxigraph) --------------------------------------------------------
#
# Why a scanner is enough: SERVICE is a reserved keyword of SPARQL 1.1, so wherever the
# word stands as a token of its own it is the SERVICE clause (or a syntax error), however
# deeply it is nested (OPTIONAL, UNION, MINUS, EXISTS, subqueries, GRAPH). The scanner
# blanks out what may legitimately hold the word - comments, strings and IRIs - and looks
# at the rest. It errs on the side of refusing, and hands what it cannot be sure of to the
# full parse (`check`):
#
# - pyoxigraph's parser needs no space after a keyword: `SERVICE:x` and `SERVICEsilent<…>`
#   are SERVICE clauses to it (tested). So any word that *starts* with "service" (any case)
#   is refused; only a variable (`?service`) or a name that has the letters after another
#   name character (`ex:service`, `kg:myService`) passes.
# - `<` is both an IRI's start and "less than", so a lexer can take `?a<1)…>` for an IRI
#   and fall out of step with the engine. The scanner therefore never trusts what it
#   skipped: when the letters "service" appear inside a comment, string or IRI, or right
#   after `.`, `-` or a backslash (where a prefixed name and a keyword are hard to tell
#   apart), the query goes to the full parse. A text without the letters (nearly every
#   query) cannot hold SERVICE: pyoxigraph reads no \u escapes outside strings and IRIs.

_NO_SERVICE = ("SERVICE is not accepted: this endpoint does not query other endpoints on a "
               "user's behalf. Run the federated part on your side.")
_READ_ONLY = ("SPARQL Update is not accepted: this endpoint is read-only (no INSERT, DELETE, "
              "LOAD, CLEAR, CREATE, DROP, COPY, MOVE, ADD).")
_UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY",
                           "MOVE", "ADD", "WITH"})
_VOLATILE = frozenset({"RAND", "NOW", "UUID", "STRUUID"})
_SKIPPED = re.compile(r'''
    (?P<comment>\#[^\n\r]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""
             | '\''\''(?:[^'\\]|\\.|'(?!''))*'\''\''
             | "(?:[^"\\\n\r]|\\.)*"
             | '(?:[^'\\\n\r]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<open>["'])
''', re.VERBOSE | re.DOTALL)
_WORD = re.compile(r"""[?$]?[^\s#"'<>(){}\[\],;=!|&+*/^@?$]+""")
_SERVICE = re.compile("service", re.IGNORECASE)
_NAME_CHAR = re.compile(r"[\w:?$%\u00b7-\U0010ffff]")


@dataclass(frozen=True)
class _Lexed:
    """What the scanner saw outside comments, strings and IRIs."""

    code: str  # the text with every skipped span blanked out (same length, same offsets)
    words: tuple[tuple[int, str], ...]  # (offset, word) of the code, in order
    deterministic: bool


def _lex(text: str) -> _Lexed:
    """Blank out comments, strings and IRIs; list the remaining words.

    An unterminated string blanks the rest of the text (the engine rejects it anyway).
    """
    parts, last = [], 0
    for match in _SKIPPED.finditer(text):
        start, end = match.span()
        if match.lastgroup == "open":
            end = len(text)
        parts += [text[last:start], " " * (end - start)]
        last = end
        if end == len(text):
            break
    parts.append(text[last:])
    code = "".join(parts)
    words = tuple((m.start(), m.group()) for m in _WORD.finditer(code))
    deterministic = not any(w.upper() in _VOLATILE for _, w in words)
    return _Lexed(code, words, deterministic)


def _service_verdict(text: str, lexed: _Lexed) -> str:
    """"refuse", "parse" (unsure: let the full parse decide) or "fine"."""
    verdict = "fine"
    for match in _SERVICE.finditer(text):
        at = match.start()
        if lexed.code[at:at + 7].lower() != "service":
            verdict = "parse"  # inside a comment, string or IRI: trust no skipping
            continue
        before = lexed.code[at - 1] if at else " "
        if before in ".-\\":
            verdict = "parse"
        elif not _NAME_CHAR.match(before):
            return "refuse"
    return verdict


def _form(lexed: _Lexed) -> tuple[str | None, int]:
    """The first keyword after the prologue (PREFIX and BASE declarations), and its offset."""
    words, i = lexed.words, 0
    while i < len(words):
        word = words[i][1].upper()
        if word == "PREFIX":
            i += 2  # PREFIX pname: <iri> (the IRI is blanked out)
        elif word == "BASE":
            i += 1
        else:
            return word, words[i][0]
    return None, len(lexed.code)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


@functools.lru_cache(maxsize=512)
def _scan(text: str) -> CheckedQuery:
    lexed = _lex(text)
    verdict = _service_verdict(text, lexed) if _SERVICE.search(text) else "fine"
    if verdict == "refuse":
        raise QueryRefused(_NO_SERVICE)
    if verdict == "parse":
        return _check(text)
    form, offset = _form(lexed)
    if form in _UPDATE_WORDS:
        raise QueryRefused(_READ_ONLY)
    if form not in FORMS:
        line, column = _line_column(text, offset)
        raise QueryRejected(f"SPARQL syntax error at line {line}, column {column}: expected "
                            "SELECT, ASK, CONSTRUCT or DESCRIBE", line, column)
    has_dataset = any(w.upper() == "FROM" for _, w in lexed.words)
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
