"""The API's JSON parser: standard JSON only, refused in plain English when it is not, never a server error.

DRF's own parser lets through numbers too large for a float (``1e400`` becomes infinity) and fails with a
server error on JSON nested thousands deep (Python's parser runs out of stack). Here a number too large for a
float is kept exactly as a ``Decimal``, so the field it was sent for refuses it in its own words (“… as 1,000,000
or less”); ``Infinity`` and ``NaN``, which are not JSON, and nesting deeper than any request of this API needs
are refused as a whole with a 400.
"""

from __future__ import annotations

import codecs
import json
import math
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

#: The deepest nesting of objects and lists a request may have; the deepest this API reads is 4
#: (``{"answers": [{"values": {…}}]}``).
DEEPEST_NESTING = 32
#: Whole numbers with more digits than this are kept as ``Decimal`` (Python refuses ``int`` past 4,300 digits).
LONGEST_WHOLE_NUMBER = 100

NOT_JSON = "The request is not valid JSON ({problem}). Send a JSON object of field names and values."
NOT_A_NUMBER = (
    "The request is not standard JSON: {constant} is not a number JSON can carry. Send figures as plain numbers, "
    "like 12."
)
TOO_DEEP = (
    f"The request nests objects and lists more than {DEEPEST_NESTING} deep, far deeper than any request of this "
    "API. Send a JSON object of field names and values."
)


def _refuse_constant(constant: str):
    raise ParseError(NOT_A_NUMBER.format(constant=constant))


def _number(text: str) -> float | Decimal:
    number = float(text)
    return number if math.isfinite(number) else Decimal(text)


def _whole(text: str) -> int | Decimal:
    return int(text) if len(text) <= LONGEST_WHOLE_NUMBER else Decimal(text)


def _depth(data) -> int:
    """How deep objects and lists nest in ``data``, counted without recursion."""
    deepest, pending = 0, [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > DEEPEST_NESTING:
            return deepest
        pending.extend((child, depth + 1) for child in children)
    return deepest


class StrictJSONParser(JSONParser):
    """Standard JSON, with the refusals described in the module docstring."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8") or "utf-8"
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text, parse_constant=_refuse_constant, parse_float=_number, parse_int=_whole)
        except RecursionError as deep:
            raise ParseError(TOO_DEEP) from deep
        except ValueError as error:  # a JSONDecodeError, or bytes that are not the encoding said
            raise ParseError(NOT_JSON.format(problem=str(error))) from error
        if _depth(data) > DEEPEST_NESTING:
            raise ParseError(TOO_DEEP)
        return data
