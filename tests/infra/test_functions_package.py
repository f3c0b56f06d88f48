"""The functions zip (docs/deploy.md, `make package`) holds functions/* at its root and the
vocabquiz/ package, and Cloud Functions installs functions/requirements.txt. A
module-level import of anything else would deploy fine and fail on the first request."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.infra.tfmodel import ROOT

FUNCTIONS = ROOT / "functions"
PACKAGED = ("vocabquiz",)


def _module_level_imports(path: Path) -> set[str]:
    """Top-level names imported when the module loads (imports inside functions, such as
    the local Cloud Tasks stand-in, and `if TYPE_CHECKING:` blocks do not run in the cloud)."""
    names: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(ast.parse(path.read_text()).body)
    return names


def _installed_closure(requirements: Path) -> set[str]:
    """Distributions functions/requirements.txt installs, dependencies included."""
    pending = [
        Requirement(line.split("#")[0].strip())
        for line in requirements.read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    seen: set[str] = set()
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            pending += [Requirement(r) for r in metadata.requires(requirement.name) or []]
        except metadata.PackageNotFoundError:
            continue
    return seen


def test_functions_zip_contains_everything_the_functions_import() -> None:
    local = {p.stem for p in FUNCTIONS.glob("*.py")} | {p.name for p in FUNCTIONS.iterdir() if p.is_dir()}
    installed = _installed_closure(FUNCTIONS / "requirements.txt")
    providers = metadata.packages_distributions()
    missing: dict[str, list[str]] = {}
    for path in sorted([*FUNCTIONS.rglob("*.py"), *(ROOT / "vocabquiz").rglob("*.py")]):
        for name in _module_level_imports(path):
            if name in sys.stdlib_module_names or name in local or name in PACKAGED or name == "__future__":
                continue
            dists = {canonicalize_name(d) for d in providers.get(name, [])}
            if not dists & installed:
                missing.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not missing, (
        "imported at module level but neither in the functions zip (functions/*, vocabquiz/) "
        f"nor installed by functions/requirements.txt: {missing}"
    )


def test_functions_requirements_are_pinned() -> None:
    loose = [
        line
        for line in (FUNCTIONS / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip() and not re.search(r"==\s*[\w.]+", line)
    ]
    assert not loose, f"pin exact versions so the cloud build matches the tested one: {loose}"
