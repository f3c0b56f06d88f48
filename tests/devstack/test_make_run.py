"""`make run` as a newcomer meets it: the pages to open come first, and a second `make
run` beside a running one is refused at once without touching the first one's logs."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from devstack.endpoints import ROOT
from tests.devstack.conftest import READY, MakeRun

pytestmark = pytest.mark.stack


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_the_ready_banner_lists_the_host_page_and_the_player_page_first(make_run: MakeRun) -> None:
    pages = make_run.endpoints["gateway"].url
    banner = make_run.banner()
    assert banner[1].split() == ["Host", "page", f"{pages}/host.html", *banner[1].split()[3:]], banner
    assert banner[2].split()[:3] == ["Player", "page", f"{pages}/"], banner
    for url in (f"{pages}/host.html", f"{pages}/"):
        status, body = fetch(url)
        assert status == 200 and "<html" in body.lower(), url


def log_files(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Each file's inode, size and first bytes: a log reopened for writing changes them."""
    return {p.name: (p.stat().st_ino, p.stat().st_size, p.read_bytes()[:4096]) for p in folder.iterdir()}


def test_a_second_make_run_is_refused_at_once_naming_the_taken_ports_and_their_holders(
    make_run: MakeRun,
) -> None:
    before = log_files(make_run.log_dir)
    started = time.monotonic()
    second = subprocess.run(
        ["make", "run"], cwd=ROOT, env=make_run.env, capture_output=True, text=True, timeout=120, check=False
    )
    took_s = time.monotonic() - started
    output = second.stdout + second.stderr
    assert second.returncode != 0 and READY not in output, output
    assert took_s < 30, (took_s, output)  # before anything starts, not after a 60 s wait
    gateway, firestore = make_run.endpoints["gateway"], make_run.endpoints["firestore"]
    assert f"{gateway.address} (gateway) is taken by pid " in output, output
    assert f"{firestore.address} (firestore) is taken by pid " in output, output
    assert "Is another `make run` up?" in output
    after = log_files(make_run.log_dir)
    assert set(after) == set(before)
    for name, (inode, size, head) in before.items():
        assert after[name][0] == inode and after[name][1] >= size and after[name][2][: len(head)] == head, (
            name
        )
    assert make_run.process.poll() is None
    assert fetch(f"{gateway.url}/host.html")[0] == 200
