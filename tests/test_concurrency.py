"""Concurrent writers lose nothing; a writer killed mid-write leaves a loadable project."""

import os
import signal
import subprocess
import sys
import textwrap
import time

WRITER = textwrap.dedent("""
    import sys
    from mlops_accelerator.workspace import Project
    p = Project(sys.argv[1]); me = int(sys.argv[2]); n = int(sys.argv[3])
    for i in range(n):
        p.record("check_run", item=f"W{me}-{i}", passed=True, reason="concurrency test")
        p.set_values("foundations", {"sprint_length_weeks": 1 + (me + i) % 4})
""")


def test_four_writers_lose_no_event_and_leave_a_valid_file(project):
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(project.root), str(k), "100"])
             for k in range(4)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    items = [e["item"] for e in project.events("check_run")]
    assert len(items) == 400 and len(set(items)) == 400
    assert project.settings("foundations").sprint_length_weeks in (1, 2, 3, 4)
    assert project.settings("foundations").project_name == "contoso-churn"


def test_writer_killed_mid_write_leaves_a_loadable_project(project):
    for attempt in range(6):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(project.root), str(attempt), "100000"])
        time.sleep(0.6 + 0.15 * attempt)  # past interpreter start-up, into the write loop
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # the project loads, its settings validate, the ledger reads, and writing goes on
        assert project.settings("foundations").project_name == "contoso-churn"
        count = len(list(project.events("check_run")))
        project.record("check_run", item=f"after-kill-{attempt}", passed=True, reason="still writable")
        assert len(list(project.events("check_run"))) == count + 1
    # a killed writer may leave a temp file behind; the next write clears it away
    project.set_values("foundations", {"sprint_length_weeks": 2})
    assert [p.name for p in project.root.iterdir() if p.name.endswith(".tmp")] == []
