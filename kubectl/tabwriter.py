"""Elastic tabstops, as Go's text/tabwriter lays them out for kubectl.

Owns the column layout every kubectl table and `describe` page uses: cells end with a tab,
the last cell of a line is not part of any column, and a column block is a run of
consecutive lines that all have a cell in that column; each block is as wide as its widest
cell plus the padding. `TabWriter` also remembers widths across flushes (kubectl's fork
does this so `get -w` rows line up under the header). Pure text in, text out.
"""
from __future__ import annotations


def _width(text: str) -> int:
    return len(text)


class TabWriter:
    """Collect text with `write`, lay it out with `flush` (returns the formatted text)."""

    def __init__(self, padding: int = 3, minwidth: int = 0, remember_widths: bool = False) -> None:
        self.padding = padding
        self.minwidth = minwidth
        self.remember = remember_widths
        self.remembered: list[int] = []
        self._buf: list[str] = []

    def write(self, text: str) -> None:
        self._buf.append(text)

    def flush(self) -> str:
        text = "".join(self._buf)
        self._buf = []
        if not text:
            return ""
        trailing = text.endswith("\n")
        raw_lines = text.split("\n")
        if trailing:
            raw_lines = raw_lines[:-1]
        lines = [line.split("\t") for line in raw_lines]
        out: list[str] = []
        self._format(lines, 0, len(lines), [], out)
        result = "\n".join(out)
        return result + "\n" if trailing else result

    # Go's Writer.format, recursively per column.
    def _format(self, lines: list[list[str]], line0: int, line1: int, widths: list[int],
                out: list[str]) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            line = lines[this]
            if column >= len(line) - 1:
                this += 1
                continue
            self._write_lines(lines, line0, this, widths, out)
            line0 = this
            width = self.minwidth
            while this < line1:
                line = lines[this]
                if column >= len(line) - 1:
                    break
                w = _width(line[column]) + self.padding
                if w > width:
                    width = w
                this += 1
            if self.remember:
                if column < len(self.remembered):
                    width = max(width, self.remembered[column])
                    self.remembered[column] = width
                else:
                    self.remembered.append(width)
            self._format(lines, line0, this, widths + [width], out)
            line0 = this
        self._write_lines(lines, line0, line1, widths, out)

    @staticmethod
    def _write_lines(lines: list[list[str]], line0: int, line1: int, widths: list[int],
                     out: list[str]) -> None:
        for i in range(line0, line1):
            parts = []
            for j, cell in enumerate(lines[i]):
                if j < len(widths):
                    parts.append(cell + " " * max(0, widths[j] - _width(cell)))
                else:
                    parts.append(cell)
            out.append("".join(parts))


def tabulate(text: str, padding: int = 3) -> str:
    """Lay out one block of tab-separated text at once."""
    tw = TabWriter(padding=padding)
    tw.write(text)
    return tw.flush()
