"""Tests say what they are: every collected test that asks for the embedded model is marked ``model``, every one
that drives Chromium is marked ``browser``, and the markers and the per-test time limit are declared.

The whole suite is collected (not run) in a child process with a small plugin that writes each test's
fixtures and markers, so a new test file that forgets its marker fails here.
"""
from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# fixture -> the marker every test that uses it (directly or through another fixture) must carry
MARKER_OF_FIXTURE = {"embedded_model": "model", "browser": "browser"}
PLUGIN = '''
import json, os

def pytest_collection_finish(session):
    rows = [{"id": item.nodeid, "fixtures": list(item.fixturenames),
             "markers": sorted({m.name for m in item.iter_markers()})} for item in session.items]
    with open(os.environ["MARKER_DUMP"], "w") as f:
        json.dump(rows, f)
'''


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> list[dict]:
    folder = tmp_path_factory.mktemp("marker-dump")
    (folder / "marker_dump.py").write_text(PLUGIN)
    out = folder / "items.json"
    env = dict(os.environ, MARKER_DUMP=str(out), PYTHONPATH=os.pathsep.join([str(folder), str(ROOT)]))
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-p", "marker_dump", "tests"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_the_whole_suite_is_collected(collected):
    ids = {row["id"] for row in collected}
    assert len(collected) > 500
    assert "tests/test_markers.py::test_the_whole_suite_is_collected" in ids
    assert any(i.startswith("tests/e2e/") for i in ids)


@pytest.mark.parametrize("fixture, marker", sorted(MARKER_OF_FIXTURE.items()))
def test_every_test_that_uses_the_fixture_carries_its_marker(collected, fixture, marker):
    users = [row for row in collected if fixture in row["fixtures"]]
    assert users, f"no test asks for {fixture}: the check below would be vacuous"
    unmarked = [row["id"] for row in users if marker not in row["markers"]]
    assert not unmarked, f"these use the {fixture} fixture without @pytest.mark.{marker}: {unmarked}"


def test_the_markers_and_the_time_limit_are_declared():
    ini = configparser.ConfigParser()
    ini.read(ROOT / "pytest.ini")
    declared = {line.split(":")[0].strip() for line in ini["pytest"]["markers"].strip().splitlines()}
    assert {"model", "browser", "slow"} <= declared
    assert "--strict-markers" in ini["pytest"]["addopts"]  # a misspelt marker is an error, not a new marker
    assert int(ini["pytest"]["timeout"]) > 0
    import pytest_timeout  # noqa: F401  (requirements.txt installs it; without it the limit is silently ignored)
