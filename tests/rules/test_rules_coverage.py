"""After every other rules test: the emulator's coverage report shows each expression in
firestore.rules evaluated at least once, and each boolean one (every `allow` condition and
each of its parts) seen both true and false. The HTML and JSON reports are kept as
artifacts/rules-coverage.html and .json.

The JSON report (GET /emulator/v1/projects/{p}:ruleCoverage) is a tree of expressions,
each with the values it evaluated to and how often; an expression no request reached has
no values, and one that was only ever short-circuited has only empty ones. `if false`
and other literals are not in the tree: nothing to cover there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.rules.conftest import COVERAGE_TEST, DESELECTED_RULES_TESTS, RULES_DIR, in_rules_package
from tests.rules.harness import ROOT, RULES_PATH, Firestore

pytestmark = pytest.mark.stack


@dataclass(frozen=True)
class Expression:
    line: int
    column: int
    text: str
    values: frozenset[str]  # "true", "false", "skipped", "undefined" (an error), other kinds

    @property
    def evaluated(self) -> bool:
        return bool(self.values - {"skipped"})

    @property
    def is_condition(self) -> bool:
        return bool(self.values & {"true", "false"})

    def __str__(self) -> str:
        return f"line {self.line}:{self.column} {self.text!r}"


def expressions(report: dict[str, Any]) -> Iterator[Expression]:
    source = report["rules"]["files"][0]["content"]

    def walk(node: dict[str, Any]) -> Iterator[Expression]:
        where = node["sourcePosition"]
        seen = set()
        for entry in node.get("values", []):
            # {} is "short-circuited" (not evaluated); {"undefined": ...} is an error.
            kind, content = next(iter(entry["value"].items()), ("skipped", None))
            seen.add(str(content).lower() if kind == "boolValue" else kind)
        text = " ".join(source[where["currentOffset"] : where["endOffset"]].split())
        yield Expression(where["line"], where["column"], text, frozenset(seen))
        for child in node.get("children", []):
            yield from walk(child)

    for node in report["report"]:
        yield from walk(node)


def whole_package_ran(request: pytest.FixtureRequest) -> bool:
    ran = {item.path for item in request.session.items if in_rules_package(item)}
    modules = set(RULES_DIR.glob("test_*.py"))
    return ran == modules and not DESELECTED_RULES_TESTS


def test_rules_leave_no_expression_unevaluated(firestore: Firestore, request: pytest.FixtureRequest) -> None:
    assert request.node.name == COVERAGE_TEST  # conftest runs it last by this name
    if not whole_package_ran(request):
        pytest.skip("coverage is judged only when the whole tests/rules package runs")
    report, page = firestore.coverage()
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "rules-coverage.html").write_text(page)
    (artifacts / "rules-coverage.json").write_text(json.dumps(report, indent=1))

    assert report["rules"]["files"][0]["content"] == RULES_PATH.read_text(), "the emulator ran the real rules"
    found = list(expressions(report))
    unevaluated = [str(e) for e in found if not e.evaluated]
    one_sided = [str(e) for e in found if e.is_condition and not {"true", "false"} <= e.values]
    assert found, "the report lists the rules' expressions"
    assert unevaluated == [], "expressions no test reached"
    assert one_sided == [], "conditions never seen both true and false"
