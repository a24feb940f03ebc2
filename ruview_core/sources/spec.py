"""The one ``--source`` syntax every command reads.

* ``udp://HOST:PORT``: live ESP32 nodes (default ``udp://0.0.0.0:5005``);
* ``PATH.csi.jsonl`` / ``PATH.jsonl`` / ``PATH.csv``: a recording (``file://PATH`` works too);
* ``sim://SCENARIO?seed=N&snr_db=X&nodes=K&duration=SEC&rate_hz=R``: the simulated room.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ..wire.textfile import recording_stem

DEFAULT_UDP_HOST = "0.0.0.0"
DEFAULT_UDP_PORT = 5005
RECORDING_SUFFIXES = (".jsonl", ".csv")
SIM_PARAMETERS = {"seed": int, "snr_db": float, "nodes": int, "duration": float, "rate_hz": float, "room_seed": int, "n_antennas": int}


class SourceError(ValueError):
    """A ``--source`` that cannot be used, with a message a person can act on."""


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # "udp" | "file" | "sim"
    host: str = DEFAULT_UDP_HOST
    port: int = DEFAULT_UDP_PORT
    path: Path | None = None
    scenario: str = ""
    params: dict[str, float | int] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.kind == "udp":
            return f"udp://{self.host}:{self.port}"
        if self.kind == "file":
            return str(self.path)
        query = "&".join(f"{k}={v}" for k, v in self.params.items())
        return f"sim://{self.scenario}" + (f"?{query}" if query else "")


def parse_source(text: str) -> SourceSpec:
    text = text.strip()
    if text.startswith("udp://"):
        return _udp(text)
    if text.startswith("sim://"):
        return _sim(text)
    return _file(text.removeprefix("file://"))


def _udp(text: str) -> SourceSpec:
    parts = urlsplit(text)
    try:
        port = parts.port if parts.port is not None else DEFAULT_UDP_PORT
    except ValueError:
        raise SourceError(f"{text}: the port must be a number from 0 to 65535") from None
    return SourceSpec("udp", host=parts.hostname or DEFAULT_UDP_HOST, port=port)


def _sim(text: str) -> SourceSpec:
    from ..sim import SCENARIOS  # the simulator is only needed for sim:// sources

    parts = urlsplit(text)
    scenario = parts.netloc or parts.path.lstrip("/")
    if scenario not in SCENARIOS:
        raise SourceError(f"{text}: unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    params: dict[str, float | int] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in SIM_PARAMETERS:
            raise SourceError(f"{text}: unknown parameter {key!r}; known: {', '.join(SIM_PARAMETERS)}")
        try:
            params[key] = SIM_PARAMETERS[key](value)
        except ValueError:
            raise SourceError(f"{text}: {key}={value!r} is not a number") from None
    return SourceSpec("sim", scenario=scenario, params=params)


def _file(text: str) -> SourceSpec:
    path = Path(text)
    if not recording_stem(path).endswith(RECORDING_SUFFIXES):
        raise SourceError(
            f"{text}: not a source; use udp://HOST:PORT, sim://SCENARIO or a .csi.jsonl / .csv recording"
        )
    if not path.is_file():
        raise SourceError(f"{text}: no such recording")
    return SourceSpec("file", path=path)
