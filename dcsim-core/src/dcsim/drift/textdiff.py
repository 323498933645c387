"""The text a unified diff started from, given the text it led to.

A node's ``node.file_changed`` carries the diff, not the old text; the first change of a
watched file tells drift its known-good version this way.
"""

from __future__ import annotations

import re

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def reverse_apply(diff: str, new: str | None) -> str | None:
    """The old text of a ``diff -u`` style diff whose new text is ``new`` (None: no file).

    Raises ValueError when the diff does not fit ``new``.
    """
    lines = diff.splitlines(keepends=True)
    if lines and lines[0].startswith("--- /dev/null"):
        return None
    source = (new or "").splitlines(keepends=True)
    out: list[str] = []
    at = 0  # index into ``source`` (the new text)
    i = 0
    while i < len(lines) and not lines[i].startswith("@@"):
        i += 1
    while i < len(lines):
        match = _HUNK.match(lines[i])
        if match is None:
            raise ValueError(f"not a hunk header: {lines[i]!r}")
        start = int(match.group(3)) - (0 if match.group(4) == "0" else 1)
        out += source[at:start]
        at = start
        i += 1
        while i < len(lines) and not lines[i].startswith("@@"):
            line = lines[i]
            if line.startswith("\\"):
                # "\ No newline at end of file" belongs to the line before it.
                if out and line and lines[i - 1][:1] in " -":
                    out[-1] = out[-1].rstrip("\n")
                i += 1
                continue
            tag, text = line[:1], line[1:]
            if tag == " ":
                out.append(source[at])
                at += 1
            elif tag == "-":
                out.append(text)
            elif tag == "+":
                at += 1
            i += 1
    out += source[at:]
    return "".join(out)
