"""Schemathesis against the portal's published OpenAPI document: the events API with a device key and the REST
APIs with an employer's and a worker's JWT, data that fits the spec and data that does not, a bounded number of
examples per operation (CCUS_SCHEMATHESIS_EXAMPLES, default 4), and besides them the answers about rows that
exist (GET and PUT of ids the list gave, a batch of good and bad events), which random ids seldom reach.
Every answer is checked against the spec: no 5xx, a status it lists, its content type, its headers
(Retry-After) and its body against the schema (schemathesis' own checks). FAB's own operations (the JSON login,
the token refresh, the menu) are sent without a token. Fails on any mismatch. About two and a
half minutes here on SQLite or PostgreSQL."""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from ingest_world import MEGURO, MIRAI, event, new_device, recent_day
from portal.demo import testing
from portal.demo.testing import api_token, login_of

EXAMPLES = int(os.environ.get("CCUS_SCHEMATHESIS_EXAMPLES", "4"))
CHECKS = [status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    """One private copy of the demo data for the whole module (the requests may change it freely)."""
    with testing.demo_copy(tmp_path_factory.mktemp("schemathesis"), tmp_path_factory, PROPAGATE_EXCEPTIONS=False) as app:
        yield app


def _schema(app):
    client = app.test_client()
    admin = login_of(app, "admin")
    token = api_token(client, admin["login"], admin["password"])
    spec = client.get("/api/v1/_openapi", headers={"Authorization": f"Bearer {token}"}).get_json()
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    return schema


def _probe(case, headers: dict, statuses: list, failures: list) -> None:
    """Send one case and check its answer against the spec; a mismatch is recorded with what was sent."""
    response = case.call(headers=headers)
    statuses.append(response.status_code)
    where = f"{case.method} {case.formatted_path} → {response.status_code}"
    sent = f"(query {case.query}, body {str(case.body)[:200]})"
    if response.status_code >= 500:
        failures.append(f"{where}: {response.text[:200]} {sent}")
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        failures += [f"{where}: {f.title}: {str(f.message).splitlines()[0][:300]} {sent}" for f in group.exceptions]


def _run(operations, headers: dict, statuses: list) -> list:
    """Every operation with EXAMPLES cases of each generation mode; returns the failures."""
    failures: list = []
    for operation in operations:
        strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                             operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def probe(case):
            _probe(case, headers, statuses, failures)

        probe()
    return failures


def _existing_rows(app, rest, headers: dict, statuses: list) -> list:
    """GET and an empty PUT of the first rows each list shows the caller: the bodies of answers about real rows."""
    client, failures = app.test_client(), []
    for operation in rest:
        if "{pk}" not in operation.path or operation.method.lower() not in ("get", "put"):
            continue
        listing = client.get(operation.path.removesuffix("{pk}"), headers=headers)
        for pk in (listing.get_json() or {}).get("ids", [])[:2]:
            body = {} if operation.method.lower() == "put" else NOT_SET
            _probe(operation.Case(path_parameters={"pk": pk}, body=body), headers, statuses, failures)
    return failures


def _batches(events, headers: dict, statuses: list) -> list:
    """A batch of good events, one replayed and bad ones beside them: accepted, duplicate and rejected results."""
    day = recent_day()
    good = [event(MEGURO, day, 8), event(MIRAI, day, 8, kind="exit", mm=5)]
    bad = [{"event_id": 7, "kind": "entry"}, {"event_id": {"a": 1}}, "not an event", event("٣٠١٥٤٢١٦٣٨٨٨٢١", day, 9)]
    failures: list = []
    for batch in ({"events": good + bad}, {"events": good}, {"events": []}, {"events": "x"}):
        _probe(events[0].Case(body=batch, media_type="application/json"), headers, statuses, failures)
    return failures


def _operations(schema):
    """(events API, REST APIs, FAB's own: the JSON login, the token refresh, the menu): every operation the
    document lists but the document itself."""
    events, rest, own = [], [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        path = operation.path.removeprefix("/api/v1")
        if path.rstrip("/") == "/events":
            events.append(operation)
        elif path.startswith(("/security", "/menu")):
            own.append(operation)
        elif not path.startswith("/api/{version}"):
            rest.append(operation)
    return events, rest, own


def test_every_answer_of_the_events_and_rest_apis_matches_the_spec(fuzzed_app):
    schema = _schema(fuzzed_app)
    _device, key = new_device(fuzzed_app)
    events, rest, own = _operations(schema)
    assert len(events) == 1 and len(rest) > 20 and len(own) == 3, [op.path for op in events + rest + own]  # the spec lists what we fuzz
    statuses: list[int] = []
    device = {"Authorization": f"Bearer {key}"}
    failures = _batches(events, device, statuses) + _run(events, device, statuses)
    assert statuses.count(200) >= 3  # the device key worked
    client = fuzzed_app.test_client()
    for role in ("employer", "worker"):
        entry = login_of(fuzzed_app, role)
        jwt = {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}
        statuses.clear()
        failures += [f"{role}: {f}" for f in _existing_rows(fuzzed_app, rest, jwt, statuses)]
        assert statuses.count(200) >= 10, (role, statuses)  # rows of its own were read and written
        failures += [f"{role}: {f}" for f in _run(rest, jwt, statuses)]
        assert len(statuses) >= len(rest) and statuses.count(200) > len(rest) // 4, (role, statuses)  # authorised
    statuses.clear()  # without a token: the login's answers (random names and passwords), the others' 401
    failures += [f"no token: {f}" for f in _run(own, {}, statuses)]
    assert 401 in statuses, statuses
    assert failures == [], "\n".join(sorted(set(failures))[:40])
