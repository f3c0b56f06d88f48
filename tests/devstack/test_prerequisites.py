"""`make run` and `make test` check the machine first: each missing or too old tool is
named with the command that installs it, Debian packages are installed when make runs as
root (as CI does), and nothing starts on a machine that lacks something."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from devstack import prerequisites
from devstack.endpoints import ROOT
from devstack.prerequisites import Machine, MissingPrerequisite, ensure, find_problems


def tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def fake_sdk(tmp_path: Path, components: tuple[str, ...]) -> Path:
    """A Google Cloud CLI install with `components` recorded as installed; its bin/."""
    sdk = tmp_path / "google-cloud-sdk"
    (sdk / "bin").mkdir(parents=True)
    (sdk / ".install").mkdir()
    for component in components:
        (sdk / ".install" / f"{component}.manifest").write_text("")
    tool(sdk / "bin", "gcloud", "exit 0")
    return sdk / "bin"


def machine(
    tmp_path: Path, *, env: dict[str, str] | None = None, python: tuple[int, int] = (3, 11)
) -> Machine:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    gcloud_bin = fake_sdk(tmp_path, prerequisites.GCLOUD_COMPONENTS)
    return Machine(f"{bin_dir}:{gcloud_bin}", ROOT, env or {}, python)


def good_tools(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    tool(bin_dir, "java", "echo 'openjdk version \"17.0.15\" 2025-04-15' >&2")
    tool(bin_dir, "node", "echo v20.20.2")
    tool(bin_dir, "npm", "echo 11.0.0")
    return bin_dir


def texts(found: list[prerequisites.Problem]) -> str:
    return "\n".join(p.text for p in found)


def test_a_machine_with_every_tool_at_its_version_has_no_problem(tmp_path: Path) -> None:
    good_tools(tmp_path)
    assert find_problems(machine(tmp_path), prerequisites.STACK_NEEDS) == []


def test_a_missing_node_is_named_with_the_version_to_install_as_a_missing_java_is(tmp_path: Path) -> None:
    found = texts(find_problems(machine(tmp_path), ["java", "node"]))
    assert "Java is missing: install a JRE 17+ (Debian: apt-get install default-jre-headless)." in found
    # The version firebase-tools' engines ask for, read from package-lock.json.
    lock = json.loads((ROOT / "package-lock.json").read_text())
    engines = lock["packages"]["node_modules/firebase-tools"]["engines"]["node"]
    assert engines.startswith(">=20")
    assert "Node.js is missing: install Node.js 20+ with npm (https://nodejs.org/en/download" in found


def test_too_old_java_and_node_are_refused_with_the_version_found(tmp_path: Path) -> None:
    bin_dir = good_tools(tmp_path)
    tool(bin_dir, "java", "echo 'openjdk version \"11.0.2\" 2019-01-15' >&2")
    tool(bin_dir, "node", "echo v18.19.0")
    found = texts(find_problems(machine(tmp_path), ["java", "node"]))
    assert "Java is too old (Java 11 found, 17+ needed): install a JRE 17+" in found
    assert "Node.js is too old (Node.js 18 found, 20+ needed): install Node.js 20+" in found


def test_java_8s_old_version_scheme_is_read_as_8() -> None:
    assert prerequisites.java_major('java version "1.8.0_292"') == 8
    assert prerequisites.java_major('openjdk version "21" 2023-09-19') == 21


def test_missing_gcloud_components_are_named_with_the_command_that_installs_them(tmp_path: Path) -> None:
    good_tools(tmp_path)
    gcloud_bin = fake_sdk(tmp_path / "partial", ("pubsub-emulator",))
    partial = Machine(f"{tmp_path / 'bin'}:{gcloud_bin}", ROOT, {}, (3, 11))
    found = texts(find_problems(partial, ["gcloud"]))
    assert "gcloud components install beta cloud-firestore-emulator" in found
    assert "apt-get install google-cloud-cli-firestore-emulator" in found
    assert "pubsub-emulator" not in found


def test_an_old_python_is_refused_with_how_to_pick_another(tmp_path: Path) -> None:
    found = texts(find_problems(machine(tmp_path, python=(3, 10)), ["python"]))
    assert "Python 3.11+ is needed; this is Python 3.10" in found and "PYTHON=python3.11" in found


def test_without_root_missing_debian_packages_stop_with_the_exact_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    env = {"CHROMIUM_PATH": str(tmp_path / "no-chromium"), "WORDNET_DIR": str(tmp_path / "no-wordnet")}
    with pytest.raises(MissingPrerequisite) as refused:
        ensure(["chromium", "wordnet", "zip"], machine(tmp_path, env=env))
    message = str(refused.value)
    assert "Chromium is missing" in message and "WordNet 3.0's data is missing" in message
    assert "zip is missing" in message
    assert "sudo apt-get install -y chromium wordnet-base zip" in message


def test_as_root_missing_debian_packages_are_installed_with_apt_get(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    wordnet = tmp_path / "wordnet"
    calls = tmp_path / "apt-get.calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # An apt-get that records its arguments and "installs" WordNet's data file.
    tool(
        bin_dir,
        "apt-get",
        f'echo "$*" >> {calls}\ncase "$1" in install) mkdir -p {wordnet}; touch {wordnet}/data.noun;; esac',
    )
    ensure(["wordnet"], machine(tmp_path, env={"WORDNET_DIR": str(wordnet)}))
    assert calls.read_text().splitlines() == [
        "update -q",
        "install -y -q --no-install-recommends wordnet-base",
    ]


def test_the_command_line_exits_1_with_the_problems_and_starts_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    # Only the interpreter on PATH: no java, node or gcloud.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {"PATH": str(bin_dir), "PYTHONPATH": str(ROOT / "local"), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "devstack.prerequisites", "python", "java", "node", "gcloud"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Java is missing" in done.stderr and "Node.js is missing" in done.stderr
    assert "The Google Cloud CLI is missing" in done.stderr and "Traceback" not in done.stderr


def test_make_checks_the_machine_before_it_installs_or_starts_anything() -> None:
    """The make targets, in the order make would run them (dry run, everything out of date)."""
    import subprocess

    def recipe(target: str) -> list[str]:
        done = subprocess.run(
            ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
        )
        return done.stdout.splitlines()

    for target, needs in (
        ("run", "python java node gcloud"),
        ("test", "python java node gcloud chromium wordnet zip"),
    ):
        lines = recipe(target)
        check = lines.index(
            f"PYTHONPATH=local {os.environ.get('PYTHON', 'python3')} -m devstack.prerequisites {needs}"
        )
        firsts = [i for i, line in enumerate(lines) if "pip install" in line or "npm ci" in line]
        assert firsts and check < min(firsts), lines
    assert any(line.startswith("npm ci --ignore-scripts") for line in recipe("deps"))


def test_npm_runs_the_install_scripts_package_json_allows_and_never_builds_re2() -> None:
    """re2 (superstatic's optional native regexes, for the Hosting emulator) compiled from
    source for 268 s of a first `make run`: every package with an install script is
    allowed or denied in package.json, and make runs exactly the allowed ones."""
    import re

    lock = json.loads((ROOT / "package-lock.json").read_text())
    with_scripts = {
        name.rsplit("node_modules/", 1)[1]
        for name, entry in lock["packages"].items()
        if entry.get("hasInstallScript")
    }
    allowed = json.loads((ROOT / "package.json").read_text())["allowScripts"]
    assert set(allowed) == with_scripts
    assert allowed["re2"] is False
    makefile = (ROOT / "Makefile").read_text()
    built = re.search(r"^NPM_INSTALL_SCRIPTS := (.*)$", makefile, re.MULTILINE)
    assert built is not None
    assert sorted(built.group(1).split()) == sorted(name for name, ok in allowed.items() if ok)
    assert "npm rebuild --no-audit --no-fund $(NPM_INSTALL_SCRIPTS)" in makefile
