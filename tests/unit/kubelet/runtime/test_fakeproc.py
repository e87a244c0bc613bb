"""What hollow containers do with the docs' example commands: one-shot programs end, scripts
split on new lines, assignments are skipped, ``sleep inf`` runs for ever, exec keeps its
canned answer for programs it does not know."""
from __future__ import annotations

from kubelet.runtime.fakeproc import FakeProcess, answer_exec, plan
from kubelet.runtime.interface import ExecResult


def test_one_shot_programs_end_at_once() -> None:
    assert plan(["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]) == FakeProcess(0, 0.0, [])
    assert plan(["rev", "/input/data.txt"]).exit_code == 0
    assert plan(["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"]) == FakeProcess(
        0, 0.0, [("stdout", "Hello from the Kubernetes cluster")])
    assert plan(["perl", "server.pl"]).exit_code is None           # not a one-liner


def test_scripts_on_several_lines_with_assignments() -> None:
    script = "items=(foo bar baz qux xyz)\n  echo ${items[$JOB_COMPLETION_INDEX]} > /input/data.txt\n"
    assert plan(["bash", "-c", script]) == FakeProcess(0, 0.0, [])
    assert plan(["sh", "-c", "X=1 Y=2\nsleep 2\nexit 4"]) == FakeProcess(4, 2.0, [])
    assert plan(["sh", "-c", "echo a \\\n b"]).output == [("stdout", "a b")]


def test_sleep_for_ever() -> None:
    assert plan(["sleep", "inf"]).exit_code is None
    assert plan(["sh", "-c", "sleep infinity"]).exit_code is None
    assert plan(["sleep", "1.5"]) == FakeProcess(0, 1.5, [])


def test_exec_answers_unknown_programs_with_the_canned_result() -> None:
    canned = ExecResult(7, b"", b"")
    assert answer_exec(["cat", "/tmp/healthy"], "h", canned) == canned
    assert answer_exec(["sh", "-c", "exit 3"], "h", canned).exit_code == 3


def test_cat_without_a_file_reads_stdin_until_stopped() -> None:
    assert plan(["cat"]).exit_code is None
    assert plan(["cat", "/etc/hosts"]).exit_code == 0
