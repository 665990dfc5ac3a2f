"""Schemathesis against the portal's published OpenAPI document: the events API with a device key and the REST
APIs with an employer's and a worker's JWT, data that fits the spec and data that does not, a bounded number of
examples per operation (CCUS_SCHEMATHESIS_EXAMPLES, default 4: the whole test stays around two minutes here).
Fails on any 5xx and on any answer whose status the spec does not list (the REST APIs list what any request
may meet: portal.views.base.PortalApi.add_api_spec). Response bodies are not checked against the schemas."""
from __future__ import annotations

import os
import shutil
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from schemathesis import GenerationMode

from ingest_world import new_device
from portal import testing
from portal.testing import api_token, login_of

EXAMPLES = int(os.environ.get("CCUS_SCHEMATHESIS_EXAMPLES", "4"))


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    """One private copy of the demo data for the whole module (the requests may change it freely)."""
    tpl = testing._demo_template(tmp_path_factory)
    base = tmp_path_factory.mktemp("schemathesis")
    schema_name = None
    if testing.PG_URL:
        schema_name = f"t_{uuid.uuid4().hex[:12]}"
        testing._clone_pg_schema(tpl["template"].schema, schema_name)
        url = testing._pg_schema_url(schema_name)
    else:
        shutil.copy(tpl["template"].path, base / "ccus.db")
        url = f"sqlite:///{base / 'ccus.db'}"
    app = testing.make_app(url, base / "instance", PROPAGATE_EXCEPTIONS=False)
    app.logins = tpl["logins"]
    yield app
    testing._dispose(app)
    if schema_name:
        from sqlalchemy import create_engine, text

        engine = create_engine(testing.PG_URL)
        with engine.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        engine.dispose()


def _schema(app):
    client = app.test_client()
    admin = login_of(app, "admin")
    token = api_token(client, admin["login"], admin["password"])
    spec = client.get("/api/v1/_openapi", headers={"Authorization": f"Bearer {token}"}).get_json()
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    return schema


def _run(app, operations, headers: dict, strict_status: bool, statuses: list) -> tuple[list, list]:
    """Every operation with EXAMPLES cases of each generation mode; returns (server errors, undocumented)."""
    server_errors, undocumented = [], []
    for operation in operations:
        documented = {str(code) for code in operation.definition.raw.get("responses", {})}
        strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                             operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def probe(case):
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            where = f"{case.method} {case.formatted_path} → {response.status_code}"
            if response.status_code >= 500:
                server_errors.append(f"{where}: {response.text[:200]} (query {case.query}, body {str(case.body)[:200]})")
            elif str(response.status_code) not in documented and "default" not in documented:
                undocumented.append(where)

        probe()
    if strict_status:
        return server_errors, undocumented
    return server_errors, []


def _operations(schema):
    """(events API, REST APIs): every operation the document lists except the security API's."""
    events, rest = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        path = operation.path.removeprefix("/api/v1")
        if path.rstrip("/") == "/events":
            events.append(operation)
        elif not path.startswith(("/security", "/menu", "/api/{version}")):  # FAB's own, not the portal's
            rest.append(operation)
    return events, rest


def test_no_input_to_the_events_or_rest_apis_gives_a_server_error(fuzzed_app):
    schema = _schema(fuzzed_app)
    _device, key = new_device(fuzzed_app)
    events, rest = _operations(schema)
    assert len(events) == 1 and len(rest) > 20, [op.path for op in events + rest]  # the spec lists what we fuzz
    statuses: list[int] = []
    failures, undocumented = _run(fuzzed_app, events, {"Authorization": f"Bearer {key}"}, True, statuses)
    assert 200 in statuses  # the device key worked
    client = fuzzed_app.test_client()
    for role in ("employer", "worker"):
        entry = login_of(fuzzed_app, role)
        token = api_token(client, entry["login"], entry["password"])
        statuses.clear()
        errors, missing = _run(fuzzed_app, rest, {"Authorization": f"Bearer {token}"}, True, statuses)
        failures += [f"{role}: {e}" for e in errors]
        undocumented += [f"{role}: {m}" for m in missing]
        assert len(statuses) >= len(rest) and statuses.count(200) > len(rest) // 4, (role, statuses)  # authorised
    assert failures == [], "\n".join(failures[:20])
    assert undocumented == [], "\n".join(sorted(set(undocumented)))
