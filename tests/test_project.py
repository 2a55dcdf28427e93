"""The project's own shape: what it declares matches what it imports and ships.

Read from the real sources (`ast`, `tomllib`, `json`) and a real wheel build, so a
new import, a second version number, a long function or an import cycle fails here
before a user's `pip install` finds it.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import streamchat_widget

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "streamchat_widget"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, ast.Module]:
    return {
        path.stem: ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(PACKAGE.glob("*.py"))
    }


def _third_party_imports(tree: ast.Module) -> set[str]:
    """Top-level names of the absolute imports anywhere in the module (lazy ones too)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != PACKAGE.name}


def _package_imports(name: str, tree: ast.Module) -> set[str]:
    """The package's own modules that `name` imports, relative or absolute, lazy or not."""
    found: set[str] = set()
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:  # `from . import api, stop_listener`
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE.name):
            found.add((node.module or "").removeprefix(PACKAGE.name).lstrip(".") or "__init__")
    return (found & modules) - {name}


def test_every_imported_library_is_declared():
    requirements = PYPROJECT["project"]["dependencies"]
    declared = {canonicalize_name(Requirement(r).name) for r in requirements}
    providers = packages_distributions()
    missing = {}
    for name, tree in _modules().items():
        for module in _third_party_imports(tree):
            distributions = {canonicalize_name(d) for d in providers.get(module, [module])}
            if not distributions & declared:
                missing.setdefault(f"{name}.py", []).append(module)
    assert missing == {}, f"imported but not in [project].dependencies: {missing}"


def test_the_import_check_sees_lazy_imports():
    tree = ast.parse("def f():\n    import zmq\n    from httpx2 import Request\nimport os\n")
    assert _third_party_imports(tree) == {"zmq", "httpx2"}


def test_one_version_for_python_and_js():
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "streamchat_widget/__init__.py"
    package_json = json.loads((ROOT / "js" / "package.json").read_text(encoding="utf-8"))
    assert package_json["version"] == streamchat_widget.__version__


def test_wheel_carries_the_license_and_the_one_version(tmp_path, monkeypatch):
    builders = pytest.importorskip("hatchling.builders.wheel")
    monkeypatch.setenv("SKIP_JUPYTER_BUILDER", "1")  # the JS bundle is not what is checked here
    wheel = next(iter(builders.WheelBuilder(str(ROOT)).build(directory=str(tmp_path))))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        license_text = archive.read(f"{dist_info}/licenses/LICENSE").decode()
    assert f"\nVersion: {streamchat_widget.__version__}\n" in metadata
    assert "\nLicense-Expression: BSD-3-Clause\n" in metadata
    assert license_text.startswith("BSD 3-Clause License")
    assert "Redistribution and use in source and binary forms" in license_text
    assert os.path.basename(wheel).startswith(f"streamchat_widget-{streamchat_widget.__version__}-")


def test_no_function_in_the_package_is_longer_than_the_bar():
    long = [
        f"{name}.py:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_the_package_has_no_import_cycle():
    graph = {name: _package_imports(name, tree) for name, tree in _modules().items()}
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once, as the path that closes it (depth-first, sorted order)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for following in sorted(graph.get(node, ())):
            visit(following, [*path, node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    return found
