"""The API's JSON parser: standard JSON only, refused in plain English when it is not, never a server error.

DRF's own parser lets through numbers too large for a float (``1e400`` becomes infinity) and fails with a
server error on JSON nested thousands deep (Python's parser runs out of stack). Here a number too large for a
float is kept exactly as a ``Decimal``, so the field it was sent for refuses it in its own words (“… as 1,000,000
or less”); ``Infinity`` and ``NaN``, which are not JSON, and nesting deeper than any request of this API needs
are refused as a whole with a 400, as is half of a surrogate pair (``"\\ud800"``), which no database, page
or workbook can hold.
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

BROKEN = (
    "The request holds a broken character (half of a surrogate pair, such as \\ud800), which is not text. Send "
    "text as it was typed."
)


def _refuse_constant(constant: str):
    raise ParseError(NOT_A_NUMBER.format(constant=constant))


def _number(text: str) -> float | Decimal:
    number = float(text)
    return number if math.isfinite(number) else Decimal(text)


def _whole(text: str) -> int | Decimal:
    return int(text) if len(text) <= LONGEST_WHOLE_NUMBER else Decimal(text)


def _broken(text: str) -> bool:
    """Whether text holds half of a surrogate pair (``"\\ud800"`` alone), which is no character at all."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_shape(data) -> None:
    """Refuse nesting deeper than :data:`DEEPEST_NESTING` and broken characters anywhere, without recursion."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _broken(value):
                raise ParseError(BROKEN)
            continue
        if isinstance(value, dict):
            if any(_broken(key) for key in value):
                raise ParseError(BROKEN)
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > DEEPEST_NESTING:
            raise ParseError(TOO_DEEP)
        pending.extend((child, depth + 1) for child in children)


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
        _check_shape(data)
        return data
