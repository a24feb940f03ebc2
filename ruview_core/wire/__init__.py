"""Wire formats: ADR-018 UDP packets, ESP-IDF CSV lines and ``.csi.jsonl`` recordings."""

from .adr018 import encode_packet, parse_packet
from .batch import BatchResult, CsiBatch, parse_csi_batch
from .errors import BadFieldError, LengthMismatchError, ParseError, TruncatedError, UnknownMagicError
from .esp_csv import encode_csv_line, iter_csv, parse_csv_line, read_csv, read_csv_csi
from .jsonl import iter_jsonl, packet_to_record, read_jsonl, write_jsonl

__all__ = [
    "BadFieldError",
    "BatchResult",
    "CsiBatch",
    "LengthMismatchError",
    "ParseError",
    "TruncatedError",
    "UnknownMagicError",
    "encode_csv_line",
    "encode_packet",
    "iter_csv",
    "iter_jsonl",
    "packet_to_record",
    "parse_csi_batch",
    "parse_csv_line",
    "parse_packet",
    "read_csv",
    "read_csv_csi",
    "read_jsonl",
    "write_jsonl",
]
