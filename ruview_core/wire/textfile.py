"""Opening recordings as text, plain or gzip-compressed (``.gz``), the same way everywhere."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import TextIO


def open_recording(path: str | Path) -> TextIO:
    """A text handle on ``path``; ``*.gz`` is decompressed on the fly. Undecodable bytes become
    U+FFFD so one damaged line is counted as malformed instead of ending the read."""
    if str(path).lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def recording_stem(path: str | Path) -> str:
    """The file name without ``.gz``, so a suffix check sees ``x.csv`` for ``x.csv.gz``."""
    name = Path(path).name.lower()
    return name[:-3] if name.endswith(".gz") else name
