"""JSON from clients (request bodies, WebSocket commands), parsed with a depth limit.

No request of the API nests deeper than a few levels; a body of 10,000 nested brackets (10 KB)
would otherwise reach Python's recursion limit in the parser, or later in whatever walks it, and
end as a 500 or a dropped WebSocket instead of a 400.
"""

from __future__ import annotations

import json
from typing import Any

from .registry import RegistryError

MAX_DEPTH = 16  # the deepest request, a label batch {"events": [{...}]}, needs 3


def parse_json(raw: bytes | str, what: str = "the body") -> Any:
    """The JSON value of ``raw``; :class:`RegistryError` (a 400) for anything that is not JSON or
    nests deeper than MAX_DEPTH."""
    too_deep = f"{what} nests arrays and objects deeper than {MAX_DEPTH} levels"
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RegistryError(f"{what} is not valid JSON ({error})") from None
    except RecursionError:
        raise RegistryError(too_deep) from None
    if _deeper_than(value, MAX_DEPTH):
        raise RegistryError(too_deep)
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and dicts more than ``limit`` deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False
