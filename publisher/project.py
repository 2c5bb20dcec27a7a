"""Find the folder that holds a knowledge graph's ontology/, data/ and shapes/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ORIGINS", "PARTS", "Project", "ProjectError", "bundled_root", "find_project"]

PARTS = ("ontology", "data", "shapes")

# How a project was found, in German and English, for the line every command prints.
ORIGINS = {
    "given": ("mit --root oder der Einstellung root angegeben", "given by --root or the root "
              "setting"),
    "here": ("der aktuelle Ordner", "the current folder"),
    "above": ("über dem aktuellen Ordner gefunden", "found above the current folder"),
    "bundled": ("das mit kiezgraph gelieferte Exemplar: hier liegen keine ontology/, data/ "
                "und shapes/", "the copy shipped with kiezgraph: no ontology/, data/ and "
                "shapes/ here"),
}


class ProjectError(ValueError):
    """The folder given does not hold a knowledge graph."""


@dataclass(frozen=True)
class Project:
    """A knowledge graph's source folder and the Turtle files in each part."""

    root: Path
    origin: str = "given"

    def files(self, part: str) -> list[Path]:
        """The Turtle files of one part (ontology, data or shapes), sorted by path."""
        return sorted((self.root / part).rglob("*.ttl"))

    def source_files(self) -> list[Path]:
        """Every Turtle file that goes into the published graph (ontology and data)."""
        return self.files("ontology") + self.files("data")

    def relative(self, path: Path) -> str:
        """A file's path relative to the root, with forward slashes."""
        return path.resolve().relative_to(self.root.resolve()).as_posix()


def _holds_graph(folder: Path) -> bool:
    return all((folder / part).is_dir() for part in PARTS)


def bundled_root() -> Path | None:
    """The copy shipped with the package: inside the wheel, or the clone the package sits in."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_bundled", here.parent):
        if _holds_graph(candidate):
            return candidate
    return None


def find_project(root: str | Path | None = None) -> Project:
    """The project at `root`, else the current folder, else the project whose ontology/,
    data/ or shapes/ the current folder is in, else the bundled copy."""
    if root:
        folder = Path(root)
        if not folder.is_dir():
            raise ProjectError(f"--root {folder}: no such folder")
        missing = [p for p in PARTS if not (folder / p).is_dir()]
        if missing:
            raise ProjectError(f"--root {folder}: missing {', '.join(p + '/' for p in missing)}")
        return Project(folder.resolve())
    here = Path.cwd().resolve()
    if _holds_graph(here):
        return Project(here, "here")
    for folder in here.parents:
        # Inside data/ (or ontology/, shapes/ or a folder in them) the project is the one
        # above, not the bundled copy: a maintainer there means their own data.
        if here.relative_to(folder).parts[0] in PARTS and _holds_graph(folder):
            return Project(folder, "above")
    bundled = bundled_root()
    if bundled is None:
        raise ProjectError("no ontology/, data/ and shapes/ here or above, and no bundled "
                           "copy found")
    return Project(bundled, "bundled")
