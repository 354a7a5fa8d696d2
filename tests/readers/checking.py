"""What the reader checks share: collecting failures and comparing rows."""


class Checker:
    """Collects failures, each as `where: what`."""

    def __init__(self):
        self.failures = []

    def expect(self, ok, where, what):
        if not ok:
            self.failures.append(f"{where}: {what}")


def same_rows(c, where, reader, got, want):
    """Compares rows cell by cell, reporting the first difference."""
    c.expect(len(got) == len(want), where, f"{reader} reads {len(got)} rows, not {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        if list(g) != list(w):
            c.expect(False, where, f"{reader} row {i} is {list(g)!r}, not {list(w)!r}")
            return
