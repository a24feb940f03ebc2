"""ESP-IDF CSI_DATA lines: the common variants, round trip, typed errors."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from ruview_core.wire import BadFieldError, TruncatedError, encode_csv_line, iter_csv, parse_csv_line, read_csv_csi
from ruview_core.wire.esp_csv import HEADER, read_csv_arrays

from .conftest import make_frame

ESP_CSI = 'CSI_DATA,12,1a:00:00:00:00:01,-38,11,1,0,0,0,0,0,0,0,0,-97,0,6,0,2843547,0,94,0,8,1,"[3,4,-1,5,0,0,7,-8]"'
CSI_TOOL = "CSI_DATA,STA,24:0a:c4:00:00:02,-45,11,1,7,1,1,1,0,1,0,0,-92,0,11,1,7777,0,47,0,1,1700000000.5,8,[3 4 -1 5 0 0 7 -8 ]"
C6 = 'CSI_DATA,5,aa:bb:cc:dd:ee:ff,-60,11,-95,0,0,36,1000000,10,0,8,0,"[3,4,-1,5,0,0,7,-8]"'


def test_esp_csi_line() -> None:
    frame = parse_csv_line(ESP_CSI, node_id=4)
    assert frame.node_id == 4 and frame.sequence == 12
    assert frame.rssi == -38 and frame.noise_floor == -97
    assert frame.freq_mhz == 2437 and frame.channel == 6
    assert frame.timestamp == pytest.approx(2.843547)
    np.testing.assert_array_equal(frame.csi[0], np.array([4 + 3j, 5 - 1j, 0, -8 + 7j], dtype=np.complex64))


def test_csi_tool_line_with_real_timestamp_and_40mhz() -> None:
    frame = parse_csv_line(CSI_TOOL)
    assert frame.timestamp == pytest.approx(1700000000.5)
    assert frame.bandwidth_mhz == 40 and frame.flags & 0x04  # bandwidth=1, stbc=1
    assert frame.channel == 11 and frame.rssi == -45
    assert frame.csi.shape == (1, 4)


def test_c6_layout() -> None:
    frame = parse_csv_line(C6)
    assert frame.channel == 36 and frame.freq_mhz == 5180
    assert frame.noise_floor == -95 and frame.rssi == -60


def test_tolerant_variants() -> None:
    lines = [
        "boot: ets Jun  8 2016 00:22:57",  # console noise is skipped
        HEADER,
        "I (1234) csi: " + ESP_CSI,  # log prefix
        ESP_CSI.replace(",8,1,", ",128,1,") ,  # len disagrees with the values printed
        ESP_CSI + ",extra,columns",  # trailing columns
        ESP_CSI.replace("1a:00:00:00:00:01", "1a:00:00:00:00:02"),  # a second node
        "CSI_DATA,1,2,3",  # no values
        'CSI_DATA,12,1a:00:00:00:00:01,-38,"[1,2,3]"',  # odd count
    ]
    stats: Counter[str] = Counter()
    frames = list(iter_csv(lines, stats))
    assert len(frames) == 4
    assert [f.node_id for f in frames] == [1, 1, 1, 2]
    assert stats == {"truncated": 1, "bad_field": 1, "len_mismatch": 1}
    assert all(f.csi.shape == (1, 4) for f in frames)


def test_round_trip() -> None:
    frames = [make_frame(sequence=i, seed=i, freq_mhz=2462, rssi=-50, noise_floor=-93, timestamp=10.0 + i / 20) for i in range(30)]
    lines = [HEADER] + [encode_csv_line(f, mac="aa:00:00:00:00:01") for f in frames]
    decoded = list(iter_csv(lines))
    assert len(decoded) == 30
    for a, b in zip(frames, decoded):
        assert np.array_equal(a.csi, b.csi) and a.sequence == b.sequence and b.freq_mhz == 2462
        assert b.timestamp == pytest.approx(a.timestamp, abs=1e-6)


@pytest.mark.parametrize("layout", ["esp-csi", "csi-tool"])
def test_fast_path_matches_line_parser(tmp_path, layout: str) -> None:
    frames = [make_frame(sequence=i, seed=i, rssi=-40 - i, freq_mhz=2437) for i in range(50)]
    lines = [encode_csv_line(f, layout=layout) for f in frames]
    lines.insert(10, encode_csv_line(make_frame(n_subcarriers=32), layout=layout))  # another length: left out
    path = tmp_path / "capture.csv"
    path.write_text("\n".join([HEADER, "boot noise"] + lines) + "\n")
    columns, csi = read_csv_arrays(path)
    assert csi.shape == (50, 64)
    np.testing.assert_array_equal(csi, np.stack([f.csi[0] for f in frames]))
    np.testing.assert_array_equal(columns["rssi"], [f.rssi for f in frames])
    assert set(columns["channel"]) == {6}
    np.testing.assert_array_equal(read_csv_csi(path), csi)


def test_fast_path_with_lying_len_column(tmp_path) -> None:
    lines = [encode_csv_line(make_frame(seed=i)).replace(",128,0,", ",7,0,") for i in range(5)]
    path = tmp_path / "capture.csv"
    path.write_text("\n".join(lines) + "\n")
    assert read_csv_csi(path).shape == (5, 64)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("CSI_DATA,1,2,[1 2 3 4", TruncatedError),
        ("CSI_DATA,1,2,[1 x 3 4]", BadFieldError),
        ("CSI_DATA,1,2,[1 2 3 400]", BadFieldError),
        ("CSI_DATA,1,2,[" + " ".join(["1"] * 2000) + "]", BadFieldError),
        ("something else", BadFieldError),
    ],
)
def test_typed_errors(line: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_csv_line(line)


def test_csi_tool_layout_round_trip() -> None:
    frames = [make_frame(sequence=i, seed=i, freq_mhz=2412, timestamp=1700000000.25 + i) for i in range(5)]
    decoded = list(iter_csv([encode_csv_line(f, layout="csi-tool") for f in frames]))
    assert [f.timestamp for f in decoded] == [f.timestamp for f in frames]
    assert all(np.array_equal(a.csi, b.csi) and b.channel == 1 for a, b in zip(frames, decoded))


def test_fast_path_refuses_empty_value_lists(tmp_path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text('CSI_DATA,1,aa:bb:cc:dd:ee:ff,-40,"[]"\nCSI_DATA,2,aa:bb:cc:dd:ee:ff,-40,"[]"\n')
    with pytest.raises(BadFieldError):
        read_csv_arrays(path)
