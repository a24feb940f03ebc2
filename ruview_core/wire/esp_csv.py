"""ESP-IDF / esp-csi ``CSI_DATA,...`` serial-console lines, the format most ESP32 CSI tools write.

Variants seen in the wild, all accepted:

* esp-csi ``csi_recv``: 24 metadata columns ending ``len,first_word`` then ``"[i,r,i,r,...]"``;
* ESP32-CSI-Tool: 25 columns ending ``real_time_set,real_timestamp,len`` then ``[i r i r ...]``;
* esp-csi for C5/C6: 14 columns (``rssi,rate,noise_floor,fft_gain,agc_gain,channel,...``);
* with or without a header line, with log prefixes before ``CSI_DATA``, with extra trailing
  columns, and with a ``len`` that disagrees with the number of values printed (we trust the
  values). Values are ESP-IDF's (imaginary, real) int8 pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..frames import FLAG_40MHZ, FLAG_STBC, MAX_SUBCARRIERS, CsiFrame, freq_from_channel
from .adr018 import csi_to_iq, iq_to_csi
from .errors import BadFieldError, ParseError, TruncatedError
from .textfile import open_recording

MARKER = "CSI_DATA"

ESP_CSI_COLUMNS = (
    "type", "id", "mac", "rssi", "rate", "sig_mode", "mcs", "bandwidth", "smoothing",
    "not_sounding", "aggregation", "stbc", "fec_coding", "sgi", "noise_floor", "ampdu_cnt",
    "channel", "secondary_channel", "local_timestamp", "ant", "sig_len", "rx_state", "len",
    "first_word",
)
CSI_TOOL_COLUMNS = (
    ESP_CSI_COLUMNS[:22] + ("real_time_set", "real_timestamp", "len")
)
ESP_CSI_C6_COLUMNS = (
    "type", "seq", "mac", "rssi", "rate", "noise_floor", "fft_gain", "agc_gain", "channel",
    "local_timestamp", "sig_len", "rx_state", "len", "first_word",
)
KNOWN_LAYOUTS = {len(c): c for c in (ESP_CSI_COLUMNS, CSI_TOOL_COLUMNS, ESP_CSI_C6_COLUMNS)}
HEADER = ",".join(ESP_CSI_COLUMNS) + ",data"


@dataclass
class CsvLine:
    """The parts of one line before interpretation: metadata by column name and the raw values."""

    meta: dict[str, str]
    values: np.ndarray


def split_line(line: str, columns: tuple[str, ...] | None = None) -> CsvLine:
    start = line.find(MARKER)
    if start < 0:
        raise BadFieldError("not a CSI_DATA line")
    line = line[start:]
    open_at = line.find("[")
    close_at = line.find("]", open_at + 1)
    if open_at < 0 or close_at < 0:
        raise TruncatedError("CSI_DATA line has no complete [...] value list")
    head = [part.strip().strip('"') for part in line[:open_at].split(",")]
    if head and head[-1] == "":
        head.pop()
    body = line[open_at + 1 : close_at].replace(",", " ")
    try:
        values = np.array(body.split(), dtype=np.int16)
    except ValueError:
        raise BadFieldError("CSI values are not integers") from None
    names = columns if columns and len(columns) >= len(head) else KNOWN_LAYOUTS.get(len(head), ())
    return CsvLine(meta=dict(zip(names, head)), values=values)


def _int_field(meta: dict[str, str], name: str, default: int = 0) -> int:
    try:
        return int(float(meta[name]))
    except (KeyError, ValueError):
        return default


def values_to_csi(values: np.ndarray) -> np.ndarray:
    if len(values) < 2 or len(values) % 2:
        raise BadFieldError(f"{len(values)} CSI values do not make (imag, real) pairs")
    if len(values) // 2 > MAX_SUBCARRIERS:
        raise BadFieldError(f"absurd subcarrier count {len(values) // 2}")
    if (values < -128).any() or (values > 127).any():
        raise BadFieldError("CSI values outside int8")
    return iq_to_csi(values.astype(np.int8), 1, len(values) // 2)


@dataclass
class CsvDecoder:
    """Turns lines into frames; maps each MAC to a node id (1, 2, ... in order of appearance)."""

    node_id: int | None = None
    columns: tuple[str, ...] | None = None
    node_ids: dict[str, int] = field(default_factory=dict)
    len_mismatches: int = 0
    _sequence: Counter[int] = field(default_factory=Counter)

    def decode(self, line: str) -> CsiFrame | None:
        """A frame, or None for a header line (which sets the column names)."""
        stripped = line.strip()
        if stripped.startswith("type,"):
            self.columns = tuple(c.strip() for c in stripped.split(","))
            return None
        parts = split_line(stripped, self.columns)
        csi = values_to_csi(parts.values)
        meta = parts.meta
        declared = _int_field(meta, "len", -1)
        if declared >= 0 and declared != len(parts.values):
            self.len_mismatches += 1
        node = self.node_id if self.node_id is not None else self._node_for(meta.get("mac", ""))
        sequence = _int_field(meta, "seq", _int_field(meta, "id", self._sequence[node]))
        self._sequence[node] = sequence + 1
        channel = _int_field(meta, "channel")
        flags = (FLAG_40MHZ if _int_field(meta, "bandwidth") == 1 else 0) | (
            FLAG_STBC if _int_field(meta, "stbc") == 1 else 0
        )
        if "real_timestamp" in meta and _int_field(meta, "real_time_set") == 1:
            timestamp = float(meta["real_timestamp"])
        else:
            timestamp = _int_field(meta, "local_timestamp") / 1e6
        return CsiFrame(
            node_id=node,
            sequence=sequence,
            timestamp=timestamp,
            csi=csi,
            freq_mhz=freq_from_channel(channel) if 1 <= channel <= 177 and channel != 15 else 0,
            rssi=_int_field(meta, "rssi"),
            noise_floor=_int_field(meta, "noise_floor"),
            flags=flags,
        )

    def _node_for(self, mac: str) -> int:
        if mac not in self.node_ids:
            self.node_ids[mac] = len(self.node_ids) + 1
        return self.node_ids[mac]


def parse_csv_line(line: str, node_id: int = 0) -> CsiFrame:
    """One line to a frame (no header state); raises a :class:`ParseError` subclass."""
    frame = CsvDecoder(node_id=node_id).decode(line)
    if frame is None:
        raise BadFieldError("a header line holds no CSI")
    return frame


def iter_csv(lines: Iterable[str], stats: Counter[str] | None = None, node_id: int | None = None) -> Iterator[CsiFrame]:
    """Frames from lines; malformed lines are counted in ``stats`` (raise without it)."""
    decoder = CsvDecoder(node_id=node_id)
    for line in lines:
        if MARKER not in line and not line.startswith("type,"):
            continue  # serial consoles interleave boot logs with CSI lines
        try:
            frame = decoder.decode(line)
        except ParseError as error:
            if stats is None:
                raise
            stats[error.reason] += 1
            continue
        if frame is not None:
            yield frame
    if stats is not None and decoder.len_mismatches:
        stats["len_mismatch"] += decoder.len_mismatches


def read_csv(path: str | Path, stats: Counter[str] | None = None, node_id: int | None = None) -> Iterator[CsiFrame]:
    with open_recording(path) as handle:
        yield from iter_csv(handle, stats, node_id)


NUMERIC_COLUMNS = ("rssi", "noise_floor", "channel", "bandwidth", "stbc", "local_timestamp", "real_timestamp", "len")


def _line_count(body: str) -> int:
    return body.count(",") + 1 if "," in body else len(body.split())


def read_csv_arrays(path: str | Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Fast path for whole files: metadata columns and ``[n, subcarriers]`` CSI of the lines of
    the most common length, with one C-level text parse for all values instead of one per line.

    Returns ``(columns, csi)``; ``columns`` maps the numeric metadata of :data:`NUMERIC_COLUMNS`
    that the file's layout has to arrays (int64; float64 for real_timestamp; none when the layout is unknown). Lines of other lengths are left out.
    """
    heads: list[str] = []
    bodies: list[str] = []
    with open_recording(path) as handle:
        for line in handle:
            open_at = line.find("[")
            close_at = line.find("]", open_at + 1)
            if open_at < 0 or close_at < 0:
                continue
            marker = 0 if line.startswith(MARKER) else line.find(MARKER, 0, open_at)
            if marker < 0:
                continue
            heads.append(line[marker:open_at])
            bodies.append(line[open_at + 1 : close_at])
    if not bodies:
        return {}, np.empty((0, 0), dtype=np.complex64)
    values = np.fromstring(" ".join(bodies).replace(",", " "), dtype=np.int16, sep=" ")
    rows = [h.rstrip(', "').split(",") for h in heads]
    names = KNOWN_LAYOUTS.get(len(rows[0]), ())
    columns = dict(zip(names, zip(*rows)))
    # Only the columns we use are parsed, each in one C-level pass (ints parse faster than floats).
    numeric = {}
    for name in NUMERIC_COLUMNS:
        if name in columns:
            dtype = np.float64 if name == "real_timestamp" else np.int64
            parsed = np.fromstring(" ".join(columns[name]), dtype=dtype, sep=" ")
            if parsed.size == len(rows):
                numeric[name] = parsed
    counts = numeric.get("len")
    if counts is None or counts.sum() != values.size:
        # `len` disagrees with what was printed: count each line (slower, still one parse).
        counts = np.array([_line_count(b) for b in bodies], dtype=np.int64)
        if counts.sum() != values.size:
            raise BadFieldError("CSI values are not integers")
    count = int(np.bincount(counts).argmax())
    if count == 0:
        raise BadFieldError("CSI_DATA lines carry no values")
    keep = counts == count
    if keep.all():
        values = values.reshape(-1, count)
    else:
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[keep]
        values = values[starts[:, None] + np.arange(count)]
        numeric = {name: column[keep] for name, column in numeric.items()}
    if count % 2 or values.min() < -128 or values.max() > 127:
        raise BadFieldError("CSI values must be int8 (imaginary, real) pairs")
    csi = np.empty((values.shape[0], count // 2), dtype=np.complex64)
    csi.real = values[:, 1::2]  # ESP-IDF prints (imaginary, real)
    csi.imag = values[:, 0::2]
    return numeric, csi


def read_csv_csi(path: str | Path) -> np.ndarray:
    """Just the CSI of :func:`read_csv_arrays`."""
    return read_csv_arrays(path)[1]


def encode_csv_line(frame: CsiFrame, mac: str = "00:00:00:00:00:00", layout: str = "esp-csi") -> str:
    """A single-antenna frame as an esp-csi ``csi_recv`` line (header: :data:`HEADER`), or with
    ``layout="csi-tool"`` as an ESP32-CSI-Tool line (no header, space-separated values)."""
    values = csi_to_iq(frame.csi[:1]).tolist()
    common = [
        MARKER, str(frame.sequence), mac, str(frame.rssi), "11", "1", "0",
        "1" if frame.flags & FLAG_40MHZ else "0", "0", "0", "0",
        "1" if frame.flags & FLAG_STBC else "0", "0", "0", str(frame.noise_floor), "0",
        str(frame.channel or 0), "0", str(round(frame.timestamp * 1e6)), "0", "0", "0",
    ]
    if layout == "csi-tool":
        common[1] = "STA"
        columns = common + ["1", repr(float(frame.timestamp)), str(len(values))]
        return ",".join(columns) + ",[" + " ".join(map(str, values)) + " ]"
    if layout != "esp-csi":
        raise ValueError(f"unknown CSV layout {layout!r}")
    columns = common + [str(len(values)), "0"]
    return ",".join(columns) + ',"[' + ",".join(map(str, values)) + ']"'
