"""Typed parse errors: every parser raises one of these, never a bare struct/ValueError."""


class ParseError(ValueError):
    """Input that cannot be decoded; ``reason`` is a short machine-friendly tag."""

    reason = "malformed"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class TruncatedError(ParseError):
    reason = "truncated"


class LengthMismatchError(ParseError):
    reason = "wrong_length"


class UnknownMagicError(ParseError):
    reason = "unknown_magic"

    def __init__(self, magic: int) -> None:
        super().__init__(f"unknown packet magic 0x{magic:08X}")
        self.magic = magic


class BadFieldError(ParseError):
    """A field holds an impossible value: absurd subcarrier count, NaN, bad CRC, garbage text."""

    reason = "bad_field"
