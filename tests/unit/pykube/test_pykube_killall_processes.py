"""killall stops only what pykube started: the processes its pid files name and their
process trees. A decoy whose command line names the data dir (a `tail -f` of the server
log, a `sqlite3 state.db`) survives it, and so does an unrelated process that a stale pid
file happens to name."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from component_base.procs import alive, pid_in_file
from pykube import runstate
from pykube.killall import killall, started_processes

# a "server": a process with a child of its own, as the server has containerd
SERVER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
print(child.pid, flush=True)
time.sleep(300)
"""


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:                 # whatever a failing test left: ours, by pid
        if p.poll() is None:
            p.kill()
        p.wait()


def decoy(data_dir: Path, spawned: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """A process that is not pykube's, whose command line names the data dir."""
    log = data_dir / "logs" / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    p = subprocess.Popen(["tail", "-f", str(log)], stdout=subprocess.DEVNULL)
    spawned.append(p)
    return p


async def test_killall_stops_the_server_tree_and_spares_a_decoy(tmp_path: Path,
                                                                spawned: list[subprocess.Popen[bytes]]) -> None:
    data_dir = tmp_path / "data"
    server = subprocess.Popen([sys.executable, "-c", SERVER, "--data-dir", str(data_dir)],
                              stdout=subprocess.PIPE)
    spawned.append(server)
    assert server.stdout is not None
    child = int(server.stdout.readline())
    pid_file = runstate.pid_file(data_dir, "server")
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(f"{server.pid}\n")
    tail = decoy(data_dir, spawned)

    assert started_processes(data_dir, []) == sorted([server.pid, child])
    assert await killall(data_dir, timeout=5) == 0
    assert server.wait(5) == -15                       # SIGTERM
    assert not alive(child)
    assert tail.poll() is None, "killall stopped a process it did not start"
    assert not pid_file.exists()


async def test_a_stale_pid_file_names_nothing(tmp_path: Path, spawned: list[subprocess.Popen[bytes]]) -> None:
    data_dir = tmp_path / "data"
    pid_file = runstate.pid_file(data_dir, "agent")
    pid_file.parent.mkdir(parents=True)
    other = decoy(data_dir, spawned)
    pid_file.write_text(f"{other.pid}\n")              # as if the pid had been reused since
    old = time.time() - 3600
    os.utime(pid_file, (old, old))
    assert pid_in_file(pid_file) is None
    assert started_processes(data_dir, []) == []
    assert await killall(data_dir, timeout=5) == 0
    assert other.poll() is None
