"""terraform/ checked without terraform (which cannot run here): every file parses, the
modules follow the house layout, references point at things that exist, and checkov
finds nothing that is not skipped with a stated reason."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra import tfmodel
from tests.infra.tfmodel import ROOT, TERRAFORM

MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf")
CHECKOV_VERSION = "3.3.30"


def _module_id(path: Path) -> str:
    return "root" if path == TERRAFORM else path.name


def _code(path: Path) -> str:
    """A .tf file without its comments (so a reference in a comment does not count)."""
    return "\n".join(re.sub(r"(^|\s)(#|//).*$", "", line) for line in path.read_text().splitlines())


# -- parsing and layout -------------------------------------------------------------------


@pytest.mark.parametrize("path", tfmodel.tf_files(), ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_tf_file_parses_with_python_hcl2(path: Path) -> None:
    tfmodel.parse(path)


def test_terraform_has_a_root_module_and_modules() -> None:
    names = {_module_id(path) for path in tfmodel.module_dirs()}
    assert {"root", "apis", "registry", "pubsub", "tasks", "functions", "gateway", "firestore"} <= names
    assert {"identity", "iam"} <= names


@pytest.mark.parametrize("path", tfmodel.module_dirs(), ids=_module_id)
def test_every_module_has_main_variables_outputs_and_versions(path: Path) -> None:
    missing = [name for name in MODULE_FILES if not (path / name).is_file()]
    assert not missing, f"{path.relative_to(ROOT)} lacks {missing}"


@pytest.mark.parametrize("path", tfmodel.module_dirs(), ids=_module_id)
def test_every_variable_has_a_type_and_a_description(path: Path) -> None:
    module = tfmodel.load(path)
    untyped = [name for name, spec in module.variables.items() if "type" not in spec]
    undescribed = [name for name, spec in module.variables.items() if not spec.get("description")]
    assert not untyped, f"{_module_id(path)}: variables without a type: {untyped}"
    assert not undescribed, f"{_module_id(path)}: variables without a description: {undescribed}"


@pytest.mark.parametrize("path", tfmodel.module_dirs(), ids=_module_id)
def test_every_output_has_a_description(path: Path) -> None:
    module = tfmodel.load(path)
    undescribed = [name for name, spec in module.outputs.items() if not spec.get("description")]
    assert not undescribed, f"{_module_id(path)}: outputs without a description: {undescribed}"


@pytest.mark.parametrize("path", tfmodel.module_dirs(), ids=_module_id)
def test_every_module_pins_terraform_and_the_google_provider(path: Path) -> None:
    settings = tfmodel.load(path).terraform
    assert settings, f"{_module_id(path)}: versions.tf has no terraform block"
    assert settings[0].get("required_version"), f"{_module_id(path)}: no required_version"
    providers = {name: spec for block in settings[0]["required_providers"] for name, spec in block.items()}
    assert providers["google"]["source"] == "hashicorp/google"
    assert re.search(r"\d", providers["google"]["version"]), f"{_module_id(path)}: google is not pinned"


def test_root_pins_google_and_google_beta_and_keeps_state_in_gcs() -> None:
    settings = tfmodel.load(TERRAFORM).terraform[0]
    providers = {name: spec for block in settings["required_providers"] for name, spec in block.items()}
    assert providers["google"]["version"] == providers["google-beta"]["version"]
    assert providers["google-beta"]["source"] == "hashicorp/google-beta"
    backends = {name for block in settings["backend"] for name in block}
    assert backends == {"gcs"}


@pytest.mark.parametrize("path", tfmodel.module_dirs(), ids=_module_id)
def test_every_reference_in_a_module_names_something_it_declares(path: Path) -> None:
    """What `terraform validate` would catch first: a var., local., resource, data or
    module reference to nothing (a typo, or a rename done in one place only)."""
    module = tfmodel.load(path)
    code = "\n".join(_code(tf) for tf in sorted(path.glob("*.tf")))
    unknown = set()
    for name in re.findall(r"(?<![\w.])var\.(\w+)", code):
        if name not in module.variables:
            unknown.add(f"var.{name}")
    for name in re.findall(r"(?<![\w.])local\.(\w+)", code):
        if name not in module.locals:
            unknown.add(f"local.{name}")
    for kind, name in re.findall(r"(?<![\w.\"/-])(google_[a-z0-9_]+)\.([a-z_][a-z0-9_]*)", code):
        if (kind, name) not in module.resources:
            unknown.add(f"{kind}.{name}")
    for kind, name in re.findall(r"(?<![\w.])data\.(google_[a-z0-9_]+)\.(\w+)", code):
        if (kind, name) not in module.data:
            unknown.add(f"data.{kind}.{name}")
    for call, output in re.findall(r"(?<![\w.])module\.(\w+)(?:\.(\w+))?", code):
        if call not in module.calls:
            unknown.add(f"module.{call}")
        elif output:
            inner = tfmodel.child(tfmodel.Scope(module), call).module
            if output not in inner.outputs:
                unknown.add(f"module.{call}.{output}")
    assert not unknown, f"{_module_id(path)} refers to undeclared {sorted(unknown)}"


def test_every_module_call_passes_declared_variables_and_all_required_ones() -> None:
    root = tfmodel.load(TERRAFORM)
    problems = []
    for name, call in root.calls.items():
        inner = tfmodel.child(tfmodel.Scope(root), name).module
        passed = set(call) - {"source", "depends_on", "providers", "count", "for_each"}
        required = {var for var, spec in inner.variables.items() if "default" not in spec}
        problems += [f"module.{name}: no variable {arg!r}" for arg in sorted(passed - set(inner.variables))]
        problems += [f"module.{name}: missing required {var!r}" for var in sorted(required - passed)]
    assert not problems, "\n".join(problems)


def test_environment_examples_set_only_root_variables() -> None:
    variables = tfmodel.load(TERRAFORM).variables
    required = {name for name, spec in variables.items() if "default" not in spec}
    for example in sorted((TERRAFORM / "environments").glob("*.tfvars.example")):
        values = tfmodel.parse(example)
        assert set(values) <= set(variables), (
            f"{example.name}: unknown {sorted(set(values) - set(variables))}"
        )
        assert required <= set(values), f"{example.name}: lacks required {sorted(required - set(values))}"


# -- checkov ------------------------------------------------------------------------------


def _checkov() -> list[str] | None:
    """checkov cannot share a virtualenv with this project (it pins packaging<24 against
    pytest's >=24, and its bc-python-hcl2 replaces python-hcl2's `hcl2` module), so it is
    found: $CHECKOV, then this interpreter, then .venv-checkov/, then PATH."""
    if os.environ.get("CHECKOV"):
        return [os.environ["CHECKOV"]]
    if importlib.util.find_spec("checkov") is not None:
        return [sys.executable, "-m", "checkov.main"]
    tool_venv = ROOT / ".venv-checkov" / "bin" / "checkov"
    if tool_venv.exists():
        return [str(tool_venv)]
    found = shutil.which("checkov")
    return [found] if found else None


def _inline_skips() -> list[tuple[str, int, str]]:
    skips = []
    for path in tfmodel.tf_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "checkov:skip" in line:
                skips.append((str(path.relative_to(TERRAFORM)), number, line.strip()))
    return skips


def test_every_checkov_skip_names_a_check_and_gives_a_reason() -> None:
    pattern = re.compile(r"^#\s*checkov:skip=(CKV2?_[A-Z0-9]+_\d+):\s*(?P<reason>.+)$")
    bad = []
    for path, number, line in _inline_skips():
        match = pattern.match(line)
        if not match or len(match["reason"].split()) < 6:
            bad.append(f"{path}:{number}: {line}")
    hint = "a skip needs `#checkov:skip=CKV_...: <why this finding does not apply>`"
    assert not bad, hint + ":\n" + "\n".join(bad)


def test_checkov_finds_no_failed_check_and_every_skip_is_used() -> None:
    command = _checkov()
    if command is None:
        pytest.fail(
            "checkov is not importable here and not on PATH: install it in its own virtualenv "
            f"(python -m venv .venv-checkov && .venv-checkov/bin/pip install checkov=={CHECKOV_VERSION}) "
            "or set CHECKOV=/path/to/checkov"
        )
    run = subprocess.run(
        [
            *command,
            "--directory",
            str(TERRAFORM),
            "--framework",
            "terraform",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        check=False,
    )
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov did not produce a report (exit {run.returncode}):\n{run.stderr[-3000:]}")
    reports = report if isinstance(report, list) else [report]
    failed = [check for r in reports for check in r["results"]["failed_checks"]]
    skipped = [check for r in reports for check in r["results"]["skipped_checks"]]
    parsing_errors = [error for r in reports for error in r["results"].get("parsing_errors", [])]
    assert not parsing_errors, f"checkov could not parse: {parsing_errors}"
    assert not failed, "checkov failed checks (fix them, or skip inline with a reason):\n" + "\n".join(
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']}:{c['file_line_range']})"
        for c in failed
    )
    used = {(check["file_path"].lstrip("/"), check["check_id"]) for check in skipped}
    declared = {
        (path, re.search(r"checkov:skip=([A-Z0-9_]+)", line).group(1))  # type: ignore[union-attr]
        for path, _, line in _inline_skips()
    }
    stale = sorted(declared - used)
    assert not stale, f"skips checkov no longer needs (delete them): {stale}"
