"""Disguises of SERVICE (issue #14), look-alikes that are not SERVICE, and a listener that
counts the connections a server makes (for the guard, sandbox and security tests).

`{url}` stands for a listener's URL and `{port}` for its port: fill them with `fill`.
"""

from __future__ import annotations

import itertools
import socket
import threading

__all__ = ["BENIGN", "DISGUISES", "GENERATED_DATA", "Listener", "fill", "generated"]

U = "<{url}>"
XSD_INT = "<http://www.w3.org/2001/XMLSchema#int>"
DISGUISES = [
    # the query: rdflib expands \u0022 before parsing, pyoxigraph only in strings
    'SELECT * WHERE { BIND("\\u0022" AS ?x) .SERVICE ' + U
    + " { ?s ?p ?o } BIND('\"\"\" AS ?x) #' AS ?y)\n}",
    # plain, case, spacing
    "SELECT * WHERE { SERVICE " + U + " { ?s ?p ?o } }",
    "select * where { service " + U + " { ?s ?p ?o } }",
    "SELECT * WHERE { SeRvIcE " + U + " { ?s ?p ?o } }",
    "SELECT * WHERE {\tSERVICE\n" + U + "\r\n{ ?s ?p ?o } }",
    "SELECT * WHERE {SERVICE" + U + "{?s ?p ?o}}",
    "SELECT*{SERVICE" + U + "{}}",
    # SILENT
    "SELECT * WHERE { SERVICE SILENT " + U + " { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICESILENT" + U + "{ ?s ?p ?o } }",
    "SELECT * WHERE { service silent" + U + "{ ?s ?p ?o } }",
    # comments
    "SELECT * WHERE { # a comment\nSERVICE " + U + " { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE#comment\n" + U + " { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE #}\n " + U + " { ?s ?p ?o } }",
    "# SERVICE\nSELECT * WHERE { SERVICE " + U + " { ?s ?p ?o } } # done",
    "SELECT * WHERE { ?a ?b ?c #\\u000a SERVICE\n SERVICE " + U + " {} }",
    # strings and escapes
    "SELECT * WHERE { BIND('\\u0027' AS ?x) SERVICE " + U + " { ?s ?p ?o } BIND('x' AS ?y) }",
    'SELECT * WHERE { BIND("\\"" AS ?x) SERVICE ' + U + " {} }",
    "SELECT * WHERE { BIND('''a''' AS ?x) SERVICE " + U + " {} }",
    'SELECT * WHERE { BIND("""a""" AS ?x) SERVICE ' + U + " {} }",
    "SELECT * WHERE { BIND('''it''s''' AS ?x) SERVICE " + U + " {} }",
    'SELECT * WHERE { BIND("" AS ?x) SERVICE ' + U + ' {} BIND("" AS ?y) }',
    "SELECT * WHERE { BIND('\\\\' AS ?x) SERVICE " + U + " {} }",
    'SELECT * WHERE { BIND("a"@en AS ?x) SERVICE ' + U + " {} }",
    'SELECT * WHERE { BIND("1"^^' + XSD_INT + " AS ?x) SERVICE " + U + " {} }",
    'SELECT * WHERE { BIND("\\U00000022" AS ?x) SERVICE ' + U + " {} }",
    # escapes in the endpoint IRI
    "SELECT * WHERE { SERVICE <http\\u003A//127.0.0.1:{port}/proof> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <\\u0068ttp://127.0.0.1:{port}/proof> { ?s ?p ?o } }",
    # prefixed names, BASE and variables as the endpoint
    "PREFIX e: <http://127.0.0.1:{port}/> SELECT * WHERE { SERVICE e:proof { ?s ?p ?o } }",
    "PREFIX : <http://127.0.0.1:{port}/> SELECT * WHERE { SERVICE:proof { ?s ?p ?o } }",
    "PREFIX : " + U + " SELECT * WHERE { SERVICE: { ?s ?p ?o } }",
    "BASE <http://127.0.0.1:{port}/> SELECT * WHERE { SERVICE <proof> { ?s ?p ?o } }",
    "SELECT * WHERE { BIND(" + U + " AS ?e) SERVICE ?e { ?s ?p ?o } }",
    "SELECT * WHERE { VALUES ?e { " + U + " } SERVICE ?e { ?s ?p ?o } }",
    "SELECT * WHERE { VALUES ?e { " + U + " } SERVICE $e { ?s ?p ?o } }",
    "SELECT * WHERE { VALUES ?e { " + U + " } SERVICE SILENT ?e { ?s ?p ?o } }",
    "SELECT * WHERE { VALUES ?e { " + U + " } SERVICE?e{ ?s ?p ?o } }",
    # glued to what comes before (pyoxigraph needs no space around a keyword)
    "SELECT * WHERE { ?s ?p ?o.SERVICE " + U + " {} }",
    "SELECT * WHERE { ?s ?p 1.SERVICE " + U + " {} }",
    "SELECT * WHERE { ?s ?p 1 SERVICE " + U + " {} }",
    "SELECT * WHERE { ?s ?p trueSERVICE " + U + " {} }",
    "SELECT * WHERE { ?s ?p 'x'SERVICE " + U + " {} }",
    "SELECT * WHERE { ?s ?p <http://x/>SERVICE " + U + " {} }",
    "SELECT * WHERE { ?s ?p []SERVICE " + U + " {} }",
    "SELECT * WHERE { FILTER(true)SERVICE " + U + " {} }",
    "SELECT * WHERE { {}SERVICE " + U + " {} }",
    # a prefixed name whose IRI is invalid is read as the prefix alone, then SERVICE
    "PREFIX p: <http://127.0.0.1:> SELECT * WHERE { ?s ?p p:SERVICE" + U + "{ ?a ?b ?c } }",
    # nesting
    "SELECT * WHERE { OPTIONAL { SERVICE " + U + " { ?s ?p ?o } } }",
    "SELECT * WHERE { { ?a ?b ?c } UNION { SERVICE " + U + " { ?s ?p ?o } } }",
    "SELECT * WHERE { ?a ?b ?c MINUS { SERVICE " + U + " { ?s ?p ?o } } }",
    "SELECT * WHERE { GRAPH ?g { SERVICE " + U + " { ?s ?p ?o } } }",
    "SELECT * WHERE { { SELECT * WHERE { SERVICE " + U + " { ?s ?p ?o } } } }",
    "ASK { FILTER EXISTS { SERVICE " + U + " { ?s ?p ?o } } }",
    "ASK { FILTER NOT EXISTS { SERVICE " + U + " { ?s ?p ?o } } }",
    "SELECT (EXISTS { SERVICE " + U + " { ?s ?p ?o } } AS ?x) {}",
    "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE " + U + " { ?s ?p ?o } }",
    "DESCRIBE ?s WHERE { SERVICE " + U + " { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE " + U + " { SERVICE " + U + " { ?s ?p ?o } } }",
    "SELECT * WHERE { LATERAL { SERVICE " + U + " { ?s ?p ?o } } }",
    # `<` as "less than", which a lexer could take for the start of an IRI (issue #24's query)
    "SELECT * WHERE { FILTER(1<2&&(3>0)&&'!'<'>') SERVICE " + U + " { ?s ?p ?o } #'\n}",
    "SELECT * WHERE { ?a ?b ?c FILTER(?a<1)SERVICE" + U + "{ ?s ?p ?o } }",
    "SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<'>')SERVICE " + U + " {} } #'",
    "SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<?b||'>'=\"x\")SERVICE " + U
    + " {} FILTER('x'='x') }",
    "SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<#>\n1) SERVICE " + U + " {} }",
    # readings of rdflib only (escapes outside strings): pyoxigraph finds a syntax error
    "SELECT * WHERE { \\u0053ERVICE " + U + " { ?s ?p ?o } }",
    "SELECT * WHERE { BIND('x\\u0027 AS ?x) SERVICE " + U + " {} } #'",
]

# Not SERVICE to pyoxigraph: the guard lets each pass.
BENIGN = [
    "PREFIX ex: <http://x/>\nSELECT ?service { ?s ex:service ?service }",
    "SELECT * { ?s <http://x/service> 'SERVICE <http://x/> {}' } # service",
    "PREFIX ex: <http://x/> SELECT * { ?s ex:a-service ?o . ?o ex:myService $service }",
    "PREFIX schema: <https://schema.org/> SELECT * { ?s schema:serviceType ?t }",
    'SELECT * { ?s ?p ?o FILTER(CONTAINS(STR(?o), "Bürgerservice")) }',
    "SELECT * { ?s ?p ?o FILTER(?p = <https://schema.org/serviceType>) }",
    "SELECT * { ?s <https://schema.org/serviceArea> ?o } # which service areas",
    "SELECT ?x { VALUES ?x { 'service' \"\"\"SERVICE <http://x/> {}\"\"\" } }",
    "SELECT * { ?s ?p ?o FILTER(?o < 5 && ?o > 1) }",
    "SELECT * { ?s ?p ?o FILTER(?p IN (<http://x/a>, <http://x/serviceB#c>)) }",
]


# Pieces of generated queries: what may stand before SERVICE, between, and as its endpoint.
_PROLOGUE = ("PREFIX ex: <http://x/> PREFIX e: <http://127.0.0.1:{port}/> "
             "PREFIX : <http://127.0.0.1:{port}/> PREFIX p: <http://127.0.0.1:> ")
_HEADS = ["", "?s ?p ?o", "?s ?p ?o .", "?s ?p 1", "?s ?p 1.", "?s ?p true", "?s ?p 'x'",
          '?s ?p "x"', "?s ?p '''x'''", "?s ?p <http://x/o>", "?s ?p ex:o", "?s ?p ex:o.",
          "?s ?p p:", "BIND('\\u0027' AS ?z)", 'BIND("\\u0022" AS ?z)', "FILTER(?o<2)",
          "FILTER(?o<'>')", "FILTER(?o<'#'>0)", "?s ?p ?o #", "{}", "OPTIONAL{}", "?s ?p []",
          "?s ?p ex:o\\.x", "?s ?p ?o ;", "?s ?p 'a'@en", "?s ?p '1'^^ex:t",
          # `<` as "less than" where an IRI could start (issue #24): a lexer that reads
          # `<2&&(3>` as an IRI loses a bracket and a later quote
          "FILTER(1<2&&(3>0)&&'!'<'>')", "FILTER(1<2&&(3>0))", "FILTER(?o<2&&(?o>0)&&'!'<'#')",
          "FILTER('a'<'b'||(1>0))", "BIND((1<2) AS ?c)", "FILTER((1)<(2))"]
_SEPARATORS = ["", " ", "\n", "#x\n", ".", " . "]
_KEYWORDS = ["SERVICE", "service", "SeRvIcE"]
_ENDPOINTS = ["<{url}>", "e:proof", ":proof", "<\\u0068ttp://127.0.0.1:{port}/proof>"]
_TAILS = ["", " BIND('x' AS ?w)", " #'\n"]
# The triples that make each head match, so that pyoxigraph evaluates what follows it.
GENERATED_DATA = ("<http://x/s> <http://x/p> <http://x/o> , 1 , true , 'x' , 'a'@en , "
                  "<http://127.0.0.1:> .")


def generated() -> list[str]:
    """SERVICE glued to every kind of token pyoxigraph may read before it (6,912 queries)."""
    return [f"{_PROLOGUE}SELECT * WHERE {{ {head}{sep}{keyword}"
            f"{'' if endpoint.startswith('<') else ' '}{endpoint}{{ ?a ?b ?c }}{tail} }}"
            for head, sep, keyword, endpoint, tail
            in itertools.product(_HEADS, _SEPARATORS, _KEYWORDS, _ENDPOINTS, _TAILS)]

def fill(query: str, url: str, port: int) -> str:
    """The query aimed at a listener."""
    return query.replace("{url}", url).replace("{port}", str(port))


class Listener:
    """A TCP listener on loopback that counts the connections it is offered."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()
