"""The Go tabwriter layout kubectl's tables and describe pages rely on."""
from __future__ import annotations

from kubectl.tabwriter import TabWriter, tabulate


def test_columns_padded_to_widest_cell_plus_padding() -> None:
    out = tabulate("NAME\tREADY\tAGE\nnginx-1\t1/1\t5s\n")
    assert out == "NAME      READY   AGE\nnginx-1   1/1     5s\n"


def test_last_cell_is_not_padded() -> None:
    assert tabulate("a\tb\nccc\td\n", padding=2) == "a    b\nccc  d\n"


def test_lines_without_tabs_end_a_column_block() -> None:
    text = "Name:\tx\nNamespace:\tdefault\nContainers:\n  c:\n    Image:\tnginx\n"
    assert tabulate(text, padding=2) == (
        "Name:       x\nNamespace:  default\nContainers:\n  c:\n    Image:  nginx\n")


def test_minwidth() -> None:
    tw = TabWriter(padding=3, minwidth=6)
    tw.write("a\tb\n")
    assert tw.flush() == "a     b\n"


def test_remembered_widths_across_flushes() -> None:
    tw = TabWriter(padding=3, remember_widths=True)
    tw.write("NAME\tAGE\nlong-name\t1s\n")
    first = tw.flush()
    tw.write("x\t2s\n")
    assert tw.flush() == "x" + " " * 11 + "2s\n"
    assert first.splitlines()[1] == "long-name   1s"


def test_empty_cells_are_padded() -> None:
    assert tabulate("*\tdefault\t\n\tother\t\n") == "*   default   \n    other     \n"
