"""The SHACL gate: validate the graph with pyshacl and report each violation readably.

A large graph is validated in more than one process: after the graph is parsed, the process
forks (the graph is shared copy-on-write, not parsed again), every process takes the next of
the shapes that have targets until none is left, and the report graphs are merged into one
report, the same as one process makes.

The modules: `report` (Violation, Report and their texts), `shacl` (how pyshacl is called),
`parallel` (the plan, the forked processes and the merge of their reports), `graph`
(`validate_graph`: one graph, one process or several) and `sources` (`validate_sources`: the
project's sources with the vocabulary and reasoning checks, each violation at its line).
"""

from __future__ import annotations

from publisher.validation.graph import validate_graph
from publisher.validation.parallel import ValidationProcessError
from publisher.validation.report import Report, Violation
from publisher.validation.sources import REASONING_CHECK, TERMS_CHECK, validate_sources

__all__ = ["REASONING_CHECK", "TERMS_CHECK", "Report", "ValidationProcessError", "Violation",
           "validate_graph", "validate_sources"]
