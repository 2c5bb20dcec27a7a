"""The release layout's names: one module, read by the build and the metadata step alike."""

from __future__ import annotations

import ast
from pathlib import Path

from publisher import layout

PUBLISHER = Path(layout.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_issue15_the_metadata_step_does_not_import_the_build():
    for path in sorted((PUBLISHER / "metadata").glob("*.py")):
        assert "publisher.build" not in _imports(path), path.name


def test_the_layout_imports_nothing_of_ours():
    assert not {m for m in _imports(PUBLISHER / "layout.py") if m.startswith("publisher")}


def test_a_build_is_laid_out_as_the_layout_names_it(release, build_dir):
    assert (build_dir / layout.CURRENT).resolve() == Path(release.path)
    assert (build_dir / layout.INDEX).is_file()
    assert Path(release.path).parent.name == layout.BUILDS
    for name in (layout.GRAPH_FILE, layout.BUILD_INFO, layout.SUMS_FILE, layout.VALIDATION_FILE,
                 layout.CATALOG_FILE, layout.VOID_FILE, layout.METADATA_FILE):
        assert (Path(release.path) / name).is_file(), name
    assert (Path(release.path) / layout.STORE_DIR).is_dir()
    assert any(f["name"].startswith(layout.DATASET_NAME + "-") for f in release.info["files"])
