"""The local end of an interactive stream: the terminal, stdin and stdout of pykubectl.

Owns what `exec`, `attach`, `run -i` and `debug` share on this side of the wire:
- `setup_tty(ctx, stdin, tty, quiet)`: kubectl's rule for `-t` (a TTY only with `-i` and a
  terminal on stdin, else "Unable to use a TTY - ..." and none);
- `raw_terminal(stream)`: the terminal in raw mode while keys go to the container;
- `stdin_reader(stream)` and `writer(stream)`: bytes in and out (in a thread for reads);
- `terminal_sizes(stream)`: a queue with the window size now and after each SIGWINCH.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

NO_TTY = "Unable to use a TTY - input is not a terminal or the right kind of file"


def tty_fd(stream: Any) -> int | None:
    try:
        fd = stream.fileno() if stream is not None else None
    except (AttributeError, OSError, ValueError):
        return None
    return fd if fd is not None and os.isatty(fd) else None


def setup_tty(stderr: Any, stdin_stream: Any, stdin: bool, tty: bool, quiet: bool) -> bool:
    """Whether the session gets a TTY, as kubectl decides it."""
    if not tty or not stdin:
        return False
    if tty_fd(stdin_stream) is None:
        if not quiet:
            stderr.write(NO_TTY + "\n")
            stderr.flush()
        return False
    return True


@contextlib.contextmanager
def raw_terminal(stream: Any) -> Iterator[None]:
    """Put a real terminal in raw mode (keys go to the container), and back."""
    fd = tty_fd(stream)
    if fd is None:
        yield
        return
    import termios
    import tty as ttymod
    saved = termios.tcgetattr(fd)
    ttymod.setraw(fd, termios.TCSANOW)   # keys typed ahead stay (TCSAFLUSH would drop them)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def stdin_reader(stream: Any) -> Callable[[], Awaitable[bytes]]:
    """Reads of up to 4 KiB; b"" at end of input. A pipe or terminal is watched by the
    event loop (nothing blocks when the session ends first); files and in-memory streams
    are read in a thread."""
    buf = getattr(stream, "buffer", None)
    fd = _pollable_fd(buf if buf is not None else stream)
    if fd is not None:
        async def read_fd() -> bytes:
            loop = asyncio.get_running_loop()
            ready = loop.create_future()
            loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
            try:
                await ready
            finally:
                loop.remove_reader(fd)
            try:
                return os.read(fd, 4096)
            except BlockingIOError:
                return await read_fd()
            except OSError:
                return b""
        return read_fd

    async def read() -> bytes:
        if buf is not None:
            return await asyncio.to_thread(_read_some, buf)
        text = await asyncio.to_thread(stream.read, 4096)
        return str(text).encode()
    return read


def _pollable_fd(stream: Any) -> int | None:
    """The descriptor of a pipe, socket or terminal (what epoll can watch), else None."""
    import stat
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):
        return None
    return fd if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd) else None


def _read_some(buf: Any) -> bytes:
    fileno = getattr(buf, "fileno", None)
    if fileno is not None:
        try:
            return os.read(fileno(), 4096)
        except (OSError, ValueError):
            pass
    return bytes(buf.read1(4096) if hasattr(buf, "read1") else buf.read(4096))


def writer(stream: Any) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        buf = getattr(stream, "buffer", None)
        if buf is not None:
            buf.write(data)
            buf.flush()
        else:
            stream.write(data.decode(errors="replace"))
            stream.flush()
    return write


def terminal_sizes(stream: Any) -> asyncio.Queue[tuple[int, int]] | None:
    """The terminal's size, now and at every change (SIGWINCH); None without a terminal."""
    fd = tty_fd(stream)
    if fd is None:
        return None
    sizes: asyncio.Queue[tuple[int, int]] = asyncio.Queue()

    def push() -> None:
        with contextlib.suppress(OSError):
            size = os.get_terminal_size(fd)
            sizes.put_nowait((size.columns, size.lines))
    push()
    with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGWINCH, push)
    return sizes
