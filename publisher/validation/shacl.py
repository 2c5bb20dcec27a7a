"""How pyshacl is called for our gate: its options, and without the result texts we never read.

Shared by the one-process run (publisher.validation.graph) and the processes of a parallel
one (publisher.validation.parallel), so both validate the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypedDict

from pyshacl.constraints.constraint_component import ConstraintComponent

__all__: list[str] = []  # nothing public: the package's own modules use it


_TEXTS_LOCK = threading.Lock()


def _no_text(self: ConstraintComponent, *args: object, **kwargs: object) -> str:
    return ""


@contextmanager
def _without_result_texts() -> Iterator[None]:
    """While pyshacl runs, leave out the text it renders for each result; we never read it.

    pyshacl writes a text description (every node in it spelled out) for each result, also
    for the many results of the shapes nested in sh:or and sh:qualifiedValueShape that it
    then throws away; on a large graph that text is about a fifth of the validation time.
    Our report is read from pyshacl's report graph, which stays as it is. pyshacl has no
    option to skip the text, so its renderer is swapped for one that returns "" meanwhile.
    """
    original = ConstraintComponent.__dict__.get("make_v_result_description")
    if original is None:  # a pyshacl that renders its texts elsewhere: nothing to skip
        yield
        return
    # Assigning to a method of pyshacl's class is what mypy refuses (method-assign); swapping
    # it for the run is the point here, and the replacement takes the same call.
    with _TEXTS_LOCK:
        ConstraintComponent.make_v_result_description = _no_text  # type: ignore[method-assign]
        try:
            yield
        finally:
            ConstraintComponent.make_v_result_description = original  # type: ignore[method-assign]


class _Options(TypedDict):
    """Keyword arguments of pyshacl's validate, by name, so mypy checks them against it."""

    inference: str
    advanced: bool
    allow_warnings: bool


# pyshacl's options for our gate: no inference (what is checked is what is published),
# SHACL-AF, and warnings do not fail the gate.
_OPTIONS: _Options = {"inference": "none", "advanced": True, "allow_warnings": True}
