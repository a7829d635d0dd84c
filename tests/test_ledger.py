import json

import pytest

from mlops_accelerator import ledger
from mlops_accelerator.errors import ProjectFileError


def test_append_and_read_keep_order(tmp_path):
    path = tmp_path / "ledger.jsonl"
    for i in range(5):
        ledger.append(path, ledger.new_event("check_run", item=f"S1-0{i}", passed=True, reason="ok"))
    events = list(ledger.read(path))
    assert [e["item"] for e in events] == [f"S1-0{i}" for i in range(5)]
    assert all(e["actor"] == "pytest" and e["ts"] for e in events)


def test_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="unknown ledger event type"):
        ledger.new_event("made_up")


def test_line_cut_by_a_killed_writer_is_skipped_and_next_append_starts_fresh(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger.append(path, ledger.new_event("signoff", item="S1-01", by="a", role="team_lead"))
    with open(path, "ab") as fh:  # what a writer killed mid-line leaves behind
        fh.write(b'{"id": "dead", "type": "sign')
    ledger.append(path, ledger.new_event("signoff", item="S1-02", by="b", role="team_lead"))
    events = list(ledger.read(path))
    assert [e["item"] for e in events] == ["S1-01", "S1-02"]
    assert path.read_bytes().count(b"\n") == 3


def test_corrupt_line_in_the_middle_names_file_and_line(tmp_path):
    path = tmp_path / "ledger.jsonl"
    good = json.dumps(ledger.new_event("project_created", name="x"))
    path.write_text(f"{good}\nnot json at all\n{good}\n")
    with pytest.raises(ProjectFileError, match=r"ledger.jsonl, line 2"):
        list(ledger.read(path))
