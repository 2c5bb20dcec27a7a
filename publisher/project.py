"""Find the folder that holds a knowledge graph's ontology/, data/ and shapes/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["PARTS", "Project", "ProjectError", "bundled_root", "find_project"]

PARTS = ("ontology", "data", "shapes")


class ProjectError(ValueError):
    """The folder given does not hold a knowledge graph."""


@dataclass(frozen=True)
class Project:
    """A knowledge graph's source folder and the Turtle files in each part."""

    root: Path

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
    """The project at `root`, else the current folder when it holds one, else the bundled copy."""
    if root:
        folder = Path(root)
        if not folder.is_dir():
            raise ProjectError(f"--root {folder}: no such folder")
        missing = [p for p in PARTS if not (folder / p).is_dir()]
        if missing:
            raise ProjectError(f"--root {folder}: missing {', '.join(p + '/' for p in missing)}")
        return Project(folder.resolve())
    if _holds_graph(Path.cwd()):
        return Project(Path.cwd().resolve())
    bundled = bundled_root()
    if bundled is None:
        raise ProjectError("no ontology/, data/ and shapes/ here and no bundled copy found")
    return Project(bundled)
