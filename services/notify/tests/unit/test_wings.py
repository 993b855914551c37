"""Notify's four wings import one another only downwards: domain <- persistence <- ledger <- delivery.

The use cases (ledger) never import the worker (delivery): "send now" reaches the dispatcher through the
unit of work (`persistence.uow.SendNow`). The composition root (`app.py`) and the modules beside it may
import any wing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import notify

pytestmark = pytest.mark.unit

PACKAGE = Path(notify.__file__).parent
# What each wing may import of notify, besides itself.
ALLOWED = {
    "domain": set(),
    "persistence": {"domain"},
    "ledger": {"domain", "persistence"},
    "delivery": {"domain", "persistence", "ledger"},
}


def notify_imports(path: Path) -> set[str]:
    """The notify modules `path` imports at run time (imports under `if TYPE_CHECKING:` excepted)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("notify"):
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("notify")}
    return found


@pytest.mark.parametrize("wing", sorted(ALLOWED))
def test_a_wing_imports_only_the_wings_below_it(wing: str) -> None:
    wrong = []
    for path in sorted((PACKAGE / wing).glob("*.py")):
        for name in notify_imports(path):
            there = name.split(".")[1]
            if there != wing and there not in ALLOWED[wing]:
                wrong.append(f"{wing}/{path.name} -> {name}")
    assert wrong == []


def test_the_domain_imports_no_framework() -> None:
    """Pure domain: no FastStream, SQLAlchemy or pydantic (contracts are pydantic models)."""
    wrong = []
    for path in sorted((PACKAGE / "domain").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            wrong += [
                f"{path.name} -> {n}"
                for n in names
                if n.split(".")[0] in {"faststream", "sqlalchemy", "pydantic", "contracts"}
            ]
    assert wrong == []
