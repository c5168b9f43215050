"""The importer package keeps the shape it was split into: small modules, one job each,
no module importing another that (through others) imports it back."""

import ast
import importlib
from pathlib import Path

import catalog.reports.importer as importer

PACKAGE = "catalog.reports.importer"
ROOT = Path(importer.__file__).parent


def _modules() -> dict[str, Path]:
    return {
        PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}": path
        for path in ROOT.glob("*.py")
    }


def _imports(path: Path, known: set[str]) -> set[str]:
    """The package's modules that `path` imports at its top level."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found & known


def test_no_module_of_the_importer_is_over_500_lines():
    lengths = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert len(lengths) > 5
    assert {name: n for name, n in lengths.items() if n > 500} == {}


def test_the_importer_modules_import_no_cycle():
    modules = _modules()
    graph = {name: _imports(path, set(modules)) for name, path in modules.items()}
    # A step module reaching the package's __init__ would import the whole importer back.
    assert {name for name, deps in graph.items() if PACKAGE in deps} == set()

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    assert [name for name in graph if name in reachable(name)] == []


def test_the_importer_still_offers_what_its_callers_use():
    for name in importer.__all__:
        assert getattr(importer, name) is not None
    assert {"apply", "preview", "Outcome", "Progress", "ConcurrentChange"} <= set(importer.__all__)
    pipeline = importlib.import_module(f"{PACKAGE}.pipeline")
    assert importer.apply is pipeline.apply
