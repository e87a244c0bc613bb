"""A private etcd process for tests, benchmarks and restart drills.

Owns: starting Debian's `etcd` (3.4) on free loopback ports with a given data dir, waiting
until it answers `/health`, and stopping it (SIGTERM, wait, SIGKILL if it lingers). The
process is killed with its parent (PR_SET_PDEATHSIG) so a crashed test run leaves nothing
behind; start it from the thread that lives as long as it should (the main thread).

    async with EtcdServer(data_dir) as etcd:      # or `with EtcdServer(data_dir) as etcd:`
        backend = open_backend(etcd.url)          # "etcd://127.0.0.1:PORT"

Stopping and starting again on the same data dir keeps the data (ports are re-picked unless
given). The etcd log goes to an anonymous temp file; `log_tail()` returns its end for errors.
"""
from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

ETCD_BINARY = "etcd"
_PR_SET_PDEATHSIG = 1
_GOARCH = {"aarch64": "arm64", "armv7l": "arm", "i686": "386", "x86_64": "amd64"}
_START_ATTEMPTS = 3   # free_port() can race with another process grabbing the port


class EtcdStartError(RuntimeError):
    """etcd exited or did not answer in time; the message carries its log tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class EtcdServer:
    def __init__(self, data_dir: str | os.PathLike[str], *, client_port: int = 0,
                 peer_port: int = 0, binary: str = ETCD_BINARY,
                 start_timeout: float = 20.0) -> None:
        self.data_dir = Path(data_dir)
        self.binary = binary
        self.start_timeout = start_timeout
        self._want_client_port, self._want_peer_port = client_port, peer_port
        self.client_port = 0
        self.peer_port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # -- addresses -------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def url(self) -> str:
        """The backend URL for `open_backend`."""
        return f"etcd://{self.endpoint}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle ----------------------------------------------------------------------------
    def _spawn(self) -> None:
        if self.running:
            raise RuntimeError("etcd already running")
        exe = shutil.which(self.binary)
        if exe is None:
            raise EtcdStartError(f"{self.binary!r} not found on PATH (Debian package etcd-server)")
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.client_port = self._want_client_port or free_port()
        self.peer_port = self._want_peer_port or free_port()
        client = f"http://127.0.0.1:{self.client_port}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        args = [
            exe, "--name", "pykube", "--data-dir", str(self.data_dir),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"pykube={peer}", "--initial-cluster-state", "new",
            "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
        ]
        env = dict(os.environ)
        machine = os.uname().machine
        if machine != "x86_64":   # etcd 3.4 refuses other arches unless told their Go name
            env["ETCD_UNSUPPORTED_ARCH"] = _GOARCH.get(machine, machine)
        self._log = tempfile.TemporaryFile(prefix="etcd-log-")
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT, env=env,
                                      preexec_fn=_die_with_parent)

    def log_tail(self, limit: int = 2000) -> str:
        if self._log is None:
            return ""
        self._log.seek(0, os.SEEK_END)
        size = self._log.tell()
        self._log.seek(max(0, size - limit))
        return self._log.read().decode(errors="replace")

    def _fail(self, why: str) -> EtcdStartError:
        tail = self.log_tail()
        self._kill_now()
        return EtcdStartError(f"etcd {why} (data dir {self.data_dir}):\n{tail}")

    def _check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise self._fail(f"exited with code {self._proc.returncode} during start")

    def start(self) -> "EtcdServer":
        """Start and block until healthy (sync variant)."""
        for attempt in range(_START_ATTEMPTS):
            self._spawn()
            deadline = time.monotonic() + self.start_timeout
            try:
                while time.monotonic() < deadline:
                    self._check_alive()
                    if _healthy_sync(self.client_port):
                        return self
                    time.sleep(0.05)
                raise self._fail(f"did not answer within {self.start_timeout}s")
            except EtcdStartError as e:
                if not self._retry(e, attempt):
                    raise
            except BaseException:   # interrupted or cancelled: leave no etcd behind
                self._kill_now()
                raise
        raise AssertionError("unreachable")

    async def astart(self) -> "EtcdServer":
        """Start and wait until healthy without blocking the event loop."""
        for attempt in range(_START_ATTEMPTS):
            self._spawn()
            deadline = time.monotonic() + self.start_timeout
            try:
                while time.monotonic() < deadline:
                    self._check_alive()
                    if await _healthy(self.client_port):
                        return self
                    await asyncio.sleep(0.05)
                raise self._fail(f"did not answer within {self.start_timeout}s")
            except EtcdStartError as e:
                if not self._retry(e, attempt):
                    raise
            except BaseException:   # interrupted or cancelled: leave no etcd behind
                self._kill_now()
                raise
        raise AssertionError("unreachable")

    def _retry(self, error: EtcdStartError, attempt: int) -> bool:
        picked = not (self._want_client_port and self._want_peer_port)
        return picked and attempt + 1 < _START_ATTEMPTS and "address already in use" in str(error)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait, SIGKILL if needed (sync variant). Safe to call twice."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._cleanup()

    async def astop(self, timeout: float = 10.0) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if proc.poll() is None:
                proc.kill()
                await asyncio.to_thread(proc.wait)
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL at once (crash drills); the data dir stays for a restart."""
        self._kill_now()

    def _kill_now(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    # -- context managers --------------------------------------------------------------------
    def __enter__(self) -> "EtcdServer":
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    async def __aenter__(self) -> "EtcdServer":
        return await self.astart()

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.astop()


_HEALTH_REQUEST = b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"


def _is_healthy_reply(reply: bytes) -> bool:
    return b" 200 " in reply.split(b"\r\n", 1)[0] and b'"health":"true"' in reply


def _healthy_sync(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(_HEALTH_REQUEST)
            chunks = []
            while chunk := s.recv(4096):
                chunks.append(chunk)
        return _is_healthy_reply(b"".join(chunks))
    except OSError:
        return False


async def _healthy(port: int) -> bool:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1.0)
    except (OSError, asyncio.TimeoutError):
        return False
    try:
        writer.write(_HEALTH_REQUEST)
        reply = await asyncio.wait_for(reader.read(), 1.0)
        return _is_healthy_reply(reply)
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()
