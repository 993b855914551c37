"""The house's shape, drawn from the code: small files and functions, imports that only point down, no circles.

Layers, lowest first: `contracts` (messages) <- `msgkit` (the runtime kit) <- each service and the clients
(`clinics_cli`, the parent-facing web service) <- the tooling that runs them (`clinics_admin`, `testkit`,
`bench`, `chaos`, `cluster`). A package may import its own layer's shared parts and anything below, never
a sibling service, never anything above.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = ("shared/src", "services", "cli/src", "admin/src", "testkit", "bench", "chaos", "cluster", "docs")
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 40

SERVICES = {"sessions", "cohort", "consent", "notify"}
CLIENTS = {"clinics_cli", "consent_form"}
TOOLING = {"clinics_admin", "testkit", "notify_stub", "bench", "chaos", "cluster", "docs"}


def source_files() -> Iterator[Path]:
    for root in SOURCE_ROOTS:
        for path in sorted((ROOT / root).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/tests/" in rel or "/migrations/" in rel or "node_modules" in rel:
                continue
            yield path


def package_of(path: Path) -> str:
    """The top-level import name a file belongs to (`services/notify/src/notify/x.py` -> notify)."""
    parts = path.relative_to(ROOT).parts
    if "src" in parts:
        return parts[parts.index("src") + 1]
    return parts[0]


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if "src" in parts:
        parts = parts[parts.index("src") + 1 :]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Modules imported at run time (imports under `if TYPE_CHECKING:` draw no arrow)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def layer(package: str) -> int:
    if package == "contracts":
        return 0
    if package == "msgkit":
        return 1
    if package in SERVICES or package in CLIENTS:
        return 2
    return 3


def test_no_source_file_is_longer_than_the_house_allows() -> None:
    long = {
        path.relative_to(ROOT).as_posix(): n
        for path in source_files()
        if (n := len(path.read_text().splitlines())) > MAX_FILE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_the_house_allows() -> None:
    long = {}
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT).as_posix()}:{node.name}"] = length
    assert long == {}


def test_imports_only_point_down_and_never_across_services() -> None:
    wrong = []
    known = {package_of(p) for p in source_files()}
    for path in source_files():
        here = package_of(path)
        for name in imports_of(path):
            there = name.split(".")[0]
            if there == here or there not in known:
                continue
            across = layer(there) == layer(here) == 2
            if layer(there) > layer(here) or across:
                wrong.append(f"{module_of(path)} -> {name}")
    assert sorted(set(wrong)) == []


def test_the_modules_of_every_package_import_one_another_without_a_circle() -> None:
    modules = {module_of(p): p for p in source_files()}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imported in imports_of(path):
            # `from notify.delivery import dispatcher` names a module; `from notify.domain import X` a package.
            target = imported if imported in modules else imported.rpartition(".")[0]
            same_package = target.split(".")[0] == name.split(".")[0]
            # A package's __init__ is imported with any of its modules: not an arrow of its own.
            inside = name.startswith(target + ".") or target == name
            if target in modules and same_package and not inside:
                graph[name].add(target)
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as circle:
        pytest.fail(f"import circle: {' -> '.join(circle.args[1])}")


def test_no_service_code_imports_the_tooling() -> None:
    """testkit and clinics_admin are in no service image: only a service's tests and benchmarks (which
    .dockerignore keeps out of the images too) may import them."""
    ignored = set((ROOT / ".dockerignore").read_text().splitlines())
    assert {"services/*/tests", "services/*/benchmarks"} <= ignored
    wrong = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "tests" in parts or "benchmarks" in parts or "node_modules" in parts:
            continue
        wrong += [f"{module_of(path)} -> {n}" for n in imports_of(path) if n.split(".")[0] in TOOLING]
    assert wrong == []
