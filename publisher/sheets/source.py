"""Join the workbooks in data/ to the sources: one named graph per workbook, or a refusal."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from rdflib import URIRef

from publisher.sheets.convert import Names, Problem, convert_tables, load_tables, register_tables
from publisher.sheets.workbook import SUFFIXES
from publisher.source_types import SourceError, Sources

__all__ = ["SheetError", "add_workbooks", "workbook_files"]


class SheetError(SourceError):
    """One or more cells of the workbooks are wrong; every one is named, once, under its own
    file (each problem's text starts with its file, sheet, row and column).

    A wrong value in a cell is a violation (exit 1); a file that cannot be read as a
    workbook at all is unreadable input (exit 2), as the README says."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        text = "\n".join(p.text() for p in problems)
        super().__init__(problems[0].file, None, text)
        self.exit_code = 2 if any(p.unreadable for p in problems) else 1

    def __str__(self) -> str:
        return "\n".join(p.text() for p in self.problems)

    def bilingual(self) -> str:
        """Each problem once (German / English on its line), grouped by file, and a count."""
        files = list(dict.fromkeys(p.file for p in self.problems))
        lines = []
        for file in files:
            lines += [f"Fehler / error: {p.text()}" for p in self.problems if p.file == file]
        count = len(self.problems)
        lines.append(f"FEHLER: {count} Problem(e) in {len(files)} Tabelle(n); nichts "
                     f"veröffentlicht.\nFAILED: {count} problem(s) in {len(files)} "
                     "workbook(s); nothing published.")
        return "\n".join(lines)


def workbook_files(root: Path) -> list[Path]:
    """The workbooks in a project's data/ (not the lock and backup files office programs leave)."""
    folder = root / "data"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not p.name.startswith(("~$", ".~lock", ".")))


def add_workbooks(sources: Sources) -> None:
    """Convert the project's workbooks and add each as the named graph <base>graph/<file>."""
    paths = workbook_files(sources.project.root)
    if not paths:
        return
    project, base = sources.project, sources.base
    tables, problems = load_tables([(p, project.relative(p)) for p in paths])
    union = sources.union()
    names = Names(union, base)
    register_tables(tables, base, names)
    taken: dict[URIRef, str] = {}
    for iri, path in sources.files.items():
        for subject in set(sources.dataset.graph(iri).subjects()):
            if isinstance(subject, URIRef):  # what a cell may name; blank nodes it cannot
                taken.setdefault(subject, project.relative(path))

    def graph_iri(shown: str) -> URIRef:
        return URIRef(f"{base}graph/{quote(shown, safe='/-._~')}")  # maintainers use spaces

    # The triples go straight into the dataset; on any problem the whole load is refused.
    converted = convert_tables(tables, base, names, taken,
                               lambda shown: sources.dataset.graph(graph_iri(shown)))
    problems += converted.problems
    if problems:
        raise SheetError(problems)
    by_name = {project.relative(p): p for p in paths}
    for shown in converted.graphs:
        sources.files[graph_iri(shown)] = by_name[shown]
    read_as = {f: f" ({how})" for f, how in converted.read_as.items()}
    sources.places.update({s: f"{f}{read_as.get(f, '')} › {sheet} › Zeile {row}"
                           for s, (f, sheet, row) in converted.places.items()})
    sources.columns.update(converted.columns)
    sources.rows.update(converted.places)
