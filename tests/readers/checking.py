"""What the reader checks share: their arguments, collecting failures and
comparing rows."""

import json
import sys
from pathlib import Path


def arguments(argv, usage):
    """The output folder and the manifest's files from `DIR MANIFEST.json`,
    or None after printing why not (exit status 2)."""
    if len(argv) != 3:
        print(usage, file=sys.stderr)
        return None
    try:
        files = json.loads(Path(argv[2]).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError) as err:
        print(f"{argv[2]}: bad manifest: {err}", file=sys.stderr)
        return None
    return Path(argv[1]), files


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
