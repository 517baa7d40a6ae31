"""Every route of the API, sent bodies of the wrong shape, answers a 4xx with a message and never a server error.

The routes and the people who may use them come from :mod:`tests.test_route_access`, so a new endpoint is covered
as soon as it is listed there. Each is sent, by the person it belongs to and by an administrator, with POST, PUT
and PATCH: JSON that is not an object, JSON nested thousands deep, NUL and half a surrogate pair in strings, and
an object whose every usual field has the wrong type.
"""

from __future__ import annotations

import json

import pytest

from tests.test_route_access import APP_ROUTES, ROUTES, Case, private_storage, url_for  # noqa: F401
from tests.world import fast_password_hashing, world  # noqa: F401

#: Fields the API's endpoints read, each sent with a type it does not take.
WRONG_TYPES = {
    "answers": {"not": "a list"},
    "metric": [1],
    "values": ["not", "an", "object"],
    "base_revision": {"a": 1},
    "confirm_unusual": [True],
    "unusual_note": {"a": 1},
    "actions": "not a list",
    "declaration_confirmed": {"yes": True},
    "comments": ["a", "list"],
    "colour": {"red": True},
    "reason": ["why"],
    "text": {"a": "b"},
    "done": [True],
    "note": 12,
    "period": {"id": 1},
    "providers": {"a": 1},
    "provider": [1],
    "kind": ["committee"],
    "commissioner": {"id": 1},
    "title": ["a"],
    "reference": {"a": 1},
    "starts_on": [2026, 4, 1],
    "ends_on": {"year": 2027},
    "frameworks": "not a list",
    "coordinating": [1],
    "associates": {"a": 1},
    "name": [1],
}

BODIES = {
    "a list": "[1, 2]",
    "a number": "12",
    "a string": '"text"',
    "null": "null",
    "nested thousands deep": "[" * 50_000 + "]" * 50_000,
    "NUL in strings": json.dumps(dict.fromkeys(WRONG_TYPES, "a\x00b")),
    "half a surrogate pair": '{"text": "a\\ud800b", "\\udfff": 1}',
    "numbers JSON cannot carry": '{"count": 1e5000, "metric": 1e400, "period": -1e400}',
    "every field of the wrong type": json.dumps(WRONG_TYPES),
}

API_ROUTES = [
    route
    for route in APP_ROUTES
    if route.pattern.startswith("api/")
    and "format" not in route.params
    and route.name not in ("api-schema", "api-docs", "api-root")
]


@pytest.mark.django_db
@pytest.mark.parametrize("found", API_ROUTES, ids=lambda r: r.pattern)
def test_a_body_of_the_wrong_shape_is_refused_never_a_server_error(client, world, found):
    route = ROUTES[found.name]
    case = route.make(world) if route.make else Case()
    url = url_for(found, case.kwargs)
    for person in {case.owner or world.administrator, world.administrator}:
        client.force_login(person)
        for method in ("post", "put", "patch"):
            for what, body in BODIES.items():
                response = getattr(client, method)(url, body, content_type="application/json")
                assert response.status_code < 500, f"{method.upper()} {url} with {what} as {person}"
                if response.status_code == 400 and response.get("Content-Type", "").startswith("application/json"):
                    assert response.json(), f"{method.upper()} {url} with {what}: a 400 without a message"
        client.logout()
