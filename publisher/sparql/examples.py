"""The example (competency) queries the query page offers, read from their .rq files.

They live in one place, tests/queries/ (where the tests run every one of them), and the
wheel carries that folder as publisher/_bundled/queries/, so there is no second copy to
keep in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from publisher.project import bundled_root

__all__ = ["Example", "examples_folder", "load_examples"]

_META = re.compile(r"^#\s*([\w-]+)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Example:
    """One example query: its file name stem, German and English title, and text."""

    slug: str
    title: str
    title_en: str
    text: str


def examples_folder() -> Path | None:
    """Where the example queries are: tests/queries in a clone, queries/ in the wheel."""
    root = bundled_root()
    if root is None:
        return None
    for candidate in (root / "tests" / "queries", root / "queries"):
        if candidate.is_dir():
            return candidate
    return None


def _parse(path: Path) -> Example:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    for line in text.splitlines():
        match = _META.match(line)
        if not match:
            if line.strip() and not line.lstrip().startswith("#"):
                break
            continue
        meta.setdefault(match.group(1).lower(), match.group(2))
    title = meta.get("title") or path.stem.replace("-", " ")
    return Example(slug=path.stem, title=title, title_en=meta.get("title-en") or title,
                   text=text)


def load_examples(folder: str | Path | None = None) -> list[Example]:
    """The example queries in a folder (default: examples_folder()), sorted by file name."""
    folder = Path(folder) if folder else examples_folder()
    if folder is None or not folder.is_dir():
        return []
    return [_parse(path) for path in sorted(folder.glob("*.rq"))]
