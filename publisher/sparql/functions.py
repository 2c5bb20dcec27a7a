"""Which functions a query may call on a remote store: what SPARQL 1.1 defines, nothing else.

SPARQL 1.1's built-ins (STR, CONCAT, REGEX, …) are keywords of the grammar; a call by IRI
(`<iri>(…)`, `prefix:name(…)`) reaches whatever the store binds to that IRI. Virtuoso binds
`bif:` IRIs to its SQL built-ins (`bif:http_get` fetches a URL, `bif:cfg_item_value` reads its
ini file, `bif:delay` holds a thread) and `sql:` IRIs to stored procedures, and takes any
other IRI as the name of a procedure (issue #26). So the remote path allows a call by IRI
only to the IRIs listed here — deny by default — and refuses every other one with 400 before
the store sees the query (`publisher.sparql.guard.check`, on rdflib's algebra).

The list: the XSD constructor functions (casts) SPARQL 1.1 defines (§17.5) and `xsd:date`,
which pyoxigraph and Virtuoso both evaluate alike. SECURITY.md repeats it; a change here is a
change there.

`VENDOR_TEXT` is the second reading, on the text itself: Virtuoso resolves only `bif:` and
`sql:` IRIs to its built-ins and procedures, so a text in which neither appears (after `\\u`
escapes are expanded, as the check and the store both read it) cannot call one, however a
parser reads the rest. It refuses those letters anywhere, in strings and comments too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from publisher.namespaces import XSD

__all__ = ["ALLOWED_FUNCTIONS", "VENDOR_TEXT", "refused_function"]

_XSD = str(XSD)

ALLOWED_FUNCTIONS: frozenset[str] = frozenset(
    _XSD + name for name in ("boolean", "double", "float", "decimal", "integer", "dateTime",
                             "string", "date"))

VENDOR_TEXT = re.compile(r"bif:|sql:", re.IGNORECASE)


def refused_function(iris: Iterable[object]) -> str | None:
    """The first IRI among called functions' IRIs that is not allowed, else None."""
    return next((str(iri) for iri in iris if str(iri) not in ALLOWED_FUNCTIONS), None)
