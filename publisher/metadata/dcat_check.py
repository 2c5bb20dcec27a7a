"""Offline DCAT-AP.de 3.0 check: official shapes, vocabularies loaded beside the data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

__all__ = [
    "PROFILES",
    "STANDIN_VOCABULARY",
    "DcatCheck",
    "DcatResult",
    "DcatShapesMissing",
    "check_catalog",
    "load_profile",
    "load_vocabularies",
]

STANDIN_VOCABULARY = Path(__file__).resolve().parent / "vocabularies" / "standin.ttl"

# What the validator's config.properties names for `v30_de_spec` (the SEMIC 3.0.0 shapes and
# the five DCAT-AP.de v3.0 files), checked with the vocabularies as data; and SEMIC's own
# DCAT-AP 3.0.1 shapes with their range checks, checked on the catalogue alone (the
# published single-file 3.0.1 shapes refer to property shapes that no file defines, so
# the modular files are used).
WITH_VOCABULARIES = {"dcat-ap-de-3.0"}
PROFILES: dict[str, tuple[str, ...]] = {
    "dcat-ap-de-3.0": (
        "dcat-ap/3.0.0/dcat-ap-SHACL.ttl",
        "dcat-ap-de/v3.0/dcat-ap-de-imports.ttl",
        "dcat-ap-de/v3.0/dcat-ap-SHACL-DE.ttl",
        "dcat-ap-de/v3.0/dcat-ap-de-deprecated.ttl",
        "dcat-ap-de/v3.0/dcat-ap-spec-german-additions.ttl",
        "dcat-ap-de/v3.0/dcat-ap-de-controlledvocabularies.ttl",
    ),
    "dcat-ap-3.0.1": ("dcat-ap/3.0.1/modular/shapes.ttl", "dcat-ap/3.0.1/modular/range.ttl"),
}

# The controlled vocabularies the validator imports, as far as the folder holds them.
VOCABULARIES = (
    "eu-vocabularies/data-theme-skos-ap-act.ttl",
    "eu-vocabularies/filetypes-skos-ap-act.ttl",
    "dcat-ap-de/vocab/dcat-ap-de-licenses-open.rdf",
    "dcat-ap-de/vocab/dcat-ap-de-contributors.rdf",
    "dcat-ap-de/mirror/foaf_0_1.rdf",
    "dcat-ap-de/mirror/vcard.ttl",
    "dcat-ap-de/mirror/org.ttl",
)


class DcatShapesMissing(FileNotFoundError):
    """The folder given does not hold the shape files of a profile."""


@dataclass(frozen=True)
class DcatResult:
    """One SHACL result of the catalogue check."""

    severity: str
    focus: str
    path: str | None
    message: str

    def text(self) -> str:
        """One readable line."""
        where = f" {self.path}" if self.path else ""
        return f"{self.severity}: {self.focus}{where}: {self.message}"


@dataclass
class DcatCheck:
    """The outcome: zero violations means a harvester accepts the catalogue."""

    profile: str
    violations: list[DcatResult] = field(default_factory=list)
    warnings: list[DcatResult] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        """True when there is no violation (warnings and infos are allowed)."""
        return not self.violations

    def as_text(self) -> str:
        """The results as text, violations first."""
        lines = [r.text() for r in self.violations + self.warnings]
        state = "OK" if self.conforms else "FAILED"
        lines.append(f"{state}: {self.profile}: {len(self.violations)} violation(s), "
                     f"{len(self.warnings)} warning(s)")
        return "\n".join(lines)


def _parse(graph: Graph, path: Path) -> None:
    graph.parse(path, format="xml" if path.suffix == ".rdf" else "turtle")


def load_profile(folder: str | Path, profile: str = "dcat-ap-de-3.0") -> Graph:
    """The shapes graph of a profile from the conformance folder."""
    folder = Path(folder)
    if profile not in PROFILES:
        raise DcatShapesMissing(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    missing = [name for name in PROFILES[profile] if not (folder / name).is_file()]
    if missing:
        raise DcatShapesMissing(f"{folder}: no {missing[0]} (is this the conformance folder?)")
    shapes = Graph()
    for name in PROFILES[profile]:
        _parse(shapes, folder / name)
    return shapes


def load_vocabularies(folder: str | Path) -> Graph:
    """The controlled vocabularies found in the folder, plus the stand-in for missing tables."""
    folder = Path(folder)
    vocab = Graph()
    for name in VOCABULARIES:
        if (folder / name).is_file():
            _parse(vocab, folder / name)
    _parse(vocab, STANDIN_VOCABULARY)
    return vocab


def _value(graph: Graph, node, predicate) -> str | None:
    value = graph.value(node, predicate)
    return None if value is None else str(value)


def check_catalog(catalog: Graph, shapes: Graph, vocabularies: Graph,
                  profile: str = "dcat-ap-de-3.0") -> DcatCheck:
    """Validate a catalogue graph with the vocabularies mixed into the data graph."""
    # pyshacl's ont_graph only carries over ontology axioms, not the concepts' skos:inScheme
    # that the vocabulary shapes look for, so the vocabularies join the data graph here.
    data = Graph()
    for source in (catalog, vocabularies) if profile in WITH_VOCABULARIES else (catalog,):
        for triple in source:
            data.add(triple)
    _conforms, report, _text = shacl_validate(
        data, shacl_graph=shapes, inference="none",
        abort_on_first=False, allow_warnings=True, allow_infos=True)
    check = DcatCheck(profile)
    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        messages = [m for m in report.objects(result, SH.resultMessage)]
        message = next((str(m) for m in messages if getattr(m, "language", None) == "en"),
                       str(messages[0]) if messages else "")
        item = DcatResult(
            severity=str(severity).rsplit("#", 1)[-1], focus=_value(report, result, SH.focusNode)
            or "", path=_value(report, result, SH.resultPath), message=message)
        if severity == SH.Violation:
            check.violations.append(item)
        elif severity == URIRef(SH.Warning):
            check.warnings.append(item)
    check.violations.sort(key=lambda r: (r.focus, r.path or "", r.message))
    check.warnings.sort(key=lambda r: (r.focus, r.path or "", r.message))
    return check
