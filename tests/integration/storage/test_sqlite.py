"""SqliteBackend beyond the shared contract: restarts, crash durability, group commit, the
exclusive lock, and compaction really deleting rows."""
from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from apiserver.storage import StorageError
from apiserver.storage.sqlite import SqliteBackend

REPO = Path(__file__).resolve().parents[3]

CRASH_WRITER = """
import asyncio, sys
from apiserver.storage.sqlite import SqliteBackend

async def main(path):
    store = SqliteBackend(path)
    await store.start()
    async def writer(w):
        i = 0
        while True:
            key = f"/crash/{w}/{i}"
            kv = await store.create(key, key.encode() * 10)
            sys.stdout.write(f"{key} {kv.mod_revision}\\n")
            sys.stdout.flush()
            i += 1
    await asyncio.gather(*(writer(w) for w in range(8)))

asyncio.run(main(sys.argv[1]))
"""


async def test_reopen_keeps_data_and_revision_continues(scratch_dir: Path) -> None:
    path = scratch_dir / "state.db"
    store = SqliteBackend(path)
    await store.start()
    try:
        a = await store.create("/r/a", b"1")
        a = await store.update("/r/a", b"2", a.mod_revision)
        await store.create("/r/b", b"b")
        await store.delete("/r/b")               # the newest row is a delete
        await store.compact(await store.current_revision())
        rev = await store.current_revision()
    finally:
        await store.close()
    store = SqliteBackend(path)
    await store.start()
    try:
        assert await store.current_revision() == rev
        assert store.compacted_revision == rev
        assert await store.get("/r/a") == a
        assert await store.get("/r/b") is None
        c = await store.create("/r/c", b"c")
        assert c.mod_revision == rev + 1
    finally:
        await store.close()


async def test_acknowledged_writes_survive_sigkill(scratch_dir: Path) -> None:
    path = scratch_dir / "state.db"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASH_WRITER, str(path), cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE)
    acked: dict[str, int] = {}
    try:
        assert proc.stdout is not None
        while len(acked) < 400:
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line, "crash writer exited early"
            key, rev = line.decode().split()
            acked[key] = int(rev)
        proc.kill()                              # SIGKILL, right after acknowledging writes
        for line in (await proc.stdout.read()).decode().splitlines():
            key, rev = line.split()              # acknowledged before the kill landed
            acked[key] = int(rev)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    store = SqliteBackend(path)
    await store.start()
    try:
        for key, rev in acked.items():
            kv = await store.get(key)
            assert kv is not None, f"acknowledged write {key} lost"
            assert kv.mod_revision == rev and kv.value == key.encode() * 10
        assert await store.current_revision() >= max(acked.values())
    finally:
        await store.close()


async def test_concurrent_writes_share_transactions(scratch_dir: Path) -> None:
    store = SqliteBackend(scratch_dir / "state.db")
    await store.start()
    try:
        await asyncio.gather(*(store.create(f"/g/{i}", b"v") for i in range(500)))
        assert await store.count("/g/") == 500
        assert store.batches < 50, f"{store.batches} transactions for 500 concurrent writes"
    finally:
        await store.close()


async def test_second_process_cannot_open_the_same_file(scratch_dir: Path) -> None:
    path = scratch_dir / "state.db"
    store = SqliteBackend(path)
    await store.start()
    try:
        code = ("import asyncio, sys\nfrom apiserver.storage.sqlite import SqliteBackend\n"
                "async def main():\n    s = SqliteBackend(sys.argv[1], lock_timeout=0.1)\n"
                "    try:\n        await s.start()\n    except Exception as e:\n"
                "        print(type(e).__name__, e)\n"
                "asyncio.run(main())\n")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, str(path), cwd=REPO,
            env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert b"StorageError" in out and b"in use by another process" in out
    finally:
        await store.close()


async def test_compaction_deletes_superseded_rows(scratch_dir: Path) -> None:
    path = scratch_dir / "state.db"
    store = SqliteBackend(path)
    await store.start()
    try:
        kv = await store.create("/c/hot", b"0")
        for i in range(1, 200):
            kv = await store.update("/c/hot", str(i).encode(), kv.mod_revision)
        await store.create("/c/gone", b"x")
        await store.delete("/c/gone")
        await store.create("/c/cold", b"c")
        now = await store.current_revision()
        await store.compact(now - 1)
        with pytest.raises(StorageError):
            await store.compact(now + 1)          # the future cannot be compacted
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name, id FROM log ORDER BY id").fetchall()
    db.close()
    assert rows == [("/c/hot", kv.mod_revision), ("/c/gone", now - 1), ("/c/cold", now)]
