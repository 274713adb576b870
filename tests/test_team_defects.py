"""Defects found by a lab sharing the studio (issue 28), one test each: a run imported without a model in Compare,
tags and names with control characters, duplicate imports recognised by their records, and an import killed
half-way shown as interrupted and completed by running it again."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agentark.errors import ConfigError, ImportFormatError
from agentark.evaluate.compare import infer_roles
from agentark.runs.formats import import_file
from agentark.runs.names import clean_name, clean_tags
from agentark.store import Store, run_tables

pytestmark = pytest.mark.timeout(180)


def du2023_file(path, n: int = 3):
    data = {}
    for i in range(n):
        question = f"What is {i} + 1?"
        contexts = [[{"role": "user", "content": question},
                     {"role": "assistant", "content": f"The answer is {i + 1}."}] for _ in range(2)]
        data[question] = [contexts, str(i + 1)]
    path.write_text(json.dumps(data))
    return path


def test_compare_page_with_a_run_imported_without_a_model(tmp_path):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    with Store() as store:
        bare = import_file(store, "du2023", du2023_file(tmp_path / "d.json")).run_id
        named = import_file(store, "du2023", du2023_file(tmp_path / "e.json", n=4), model="m1").run_id
        assert infer_roles(store, [bare, named]) == {bare: "teacher", named: "teacher"}
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/8_compare_runs.py")
    at.query_params["runs"] = f"{bare},{named}"
    at.run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("text", ["a\nb", "a\tb", "a\x1bb", "a\x85b", "a\x00"])
def test_names_and_tags_refuse_control_characters(text):
    with pytest.raises(ConfigError, match="control characters"):
        clean_tags([text])
    with pytest.raises(ConfigError, match="control characters"):
        clean_name(text)
    assert clean_tags(["plain tag", "ünïcode"]) == ["plain tag", "ünïcode"]


def test_the_same_records_in_another_layout_are_a_duplicate_import(tmp_path):
    first = du2023_file(tmp_path / "a.json")
    copy = tmp_path / "copy" / "b.json"
    copy.parent.mkdir()
    copy.write_text(json.dumps(json.loads(first.read_text()), indent=2) + "\n")  # other bytes, same records
    with Store() as store:
        import_file(store, "du2023", first)
        with pytest.raises(ImportFormatError, match="imported"):
            import_file(store, "du2023", copy)
        again = import_file(store, "du2023", copy, again=True)
        assert again.imported == 3
        # Another file with other records still imports.
        import_file(store, "du2023", du2023_file(tmp_path / "c.json", n=4))


_KILLED = """
import os, sys
from agentark.runs.formats import import_writer, import_file
from agentark.store import Store
# Killed after the rows are written but before the import completes, as kill -9 would.
import_writer.RunWriter.finish = lambda self: os.kill(os.getpid(), 9)
import_file(Store(), "du2023", sys.argv[1])
"""


def test_an_import_killed_half_way_shows_interrupted_and_the_same_command_completes_it(tmp_path, agentark_home):
    path = du2023_file(tmp_path / "big.json", n=5)
    proc = subprocess.run([sys.executable, "-c", _KILLED, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    with Store() as store:
        runs = run_tables.list_runs(store)
        assert list(runs["status"]) == ["interrupted"] and list(runs["problems"]) == [5]
        report = import_file(store, "du2023", path)  # the same command again
        assert report.imported == 0 and report.duplicates == 5
        runs = run_tables.list_runs(store)
        assert list(runs["status"]) == ["imported"] and list(runs["problems"]) == [5]
