"""The published OpenAPI document covers every API route the portal answers (issue 15): each FAB API route is in
it with the same methods (the only others under /api/ are the device plugins' own routes, documented by their
plugins); FAB's REST ``/related/`` and ``/distinct/`` are not routed (404 with a code); a missing or bad JWT is a
401 with a code and a Japanese message, as the spec's 401 says (flask-jwt-extended answered {"msg"} in English,
and 422 for a token it could not decode); and the JSON login lists and gives every answer it has."""
from __future__ import annotations

import re

from portal.demo.testing import api_token, login_of

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _spec(app):
    client = app.test_client()
    admin = login_of(app, "admin")
    token = api_token(client, admin["login"], admin["password"])
    return client, client.get("/api/v1/_openapi", headers={"Authorization": f"Bearer {token}"}).get_json()


def test_every_api_route_is_in_the_spec_and_the_spec_lists_the_answers(demo_app):
    client, spec = _spec(demo_app)
    documented = {(re.sub(r"\{[^}]+\}", "{}", path), method.upper()) for path, ops in spec["paths"].items()
                  for method in ops if method in ("get", "post", "put", "delete", "patch")}
    routed, plugins = set(), set()
    for rule in demo_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        pairs = {(re.sub(r"<[^>]+>", "{}", rule.rule).replace("/api/{}/", "/api/v1/"), m)
                 for m in rule.methods - {"HEAD", "OPTIONS"}}
        if demo_app.view_functions[rule.endpoint].__module__.startswith("ccus_"):  # a device plugin's own route
            plugins |= pairs
        else:
            routed |= pairs
    documented = {(p.replace("/api/{}/", "/api/v1/"), m) for p, m in documented}
    assert routed - documented == set() and documented - routed == set()
    assert not any("/related/" in p or "/distinct/" in p for p, _ in routed | plugins)
    assert ("/api/v1/workers/_info", "GET") in documented
    login = spec["paths"]["/api/v1/security/login"]["post"]["responses"]
    assert set(login) == {"200", "400", "401", "403", "413", "429", "500", "503"}
    assert "Retry-After" in login["429"]["headers"]
    assert spec["components"]["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("PortalError")


def test_unrouted_paths_and_missing_or_bad_tokens_answer_a_code_and_a_japanese_message(demo_app):
    client = demo_app.test_client()
    cases = [("GET", "/api/v1/workers/related/employer", None, 404, "not_found"),
             ("GET", "/api/v1/workers/distinct/name", None, 404, "not_found"),
             ("GET", "/api/v1/workers/_info", None, 401, "missing_token"),
             ("GET", "/api/v1/workers/", "abc", 401, "invalid_token"),
             ("GET", "/api/v1/workers/1", "a.b.c", 401, "invalid_token"),
             ("GET", "/api/v1/menu/", "abc", 401, "invalid_token"),
             ("POST", "/api/v1/security/refresh", None, 401, "missing_token"),
             ("POST", "/api/v1/security/refresh", "abc", 401, "invalid_token")]
    for method, path, token, status, code in cases:
        r = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"} if token else {})
        body = r.get_json()
        assert (r.status_code, body["code"]) == (status, code), (method, path, token, body)
        assert JAPANESE.search(body["message"]), body
    entry = login_of(demo_app, "employer")
    access = api_token(client, entry["login"], entry["password"])
    refresh_only = client.post("/api/v1/security/refresh", headers={"Authorization": f"Bearer {access}"})
    assert (refresh_only.status_code, refresh_only.get_json()["code"]) == (401, "invalid_token")  # not a refresh token
    for body, status, code in ((None, 400, "bad_request"), ([1], 400, "bad_request"),
                               ({"username": entry["login"], "password": "wrong", "provider": "db"}, 401, "unauthorized"),
                               ({"username": entry["login"], "password": entry["password"], "provider": "ldap"}, 400, "bad_request")):
        r = client.post("/api/v1/security/login", json=body) if body is not None else \
            client.post("/api/v1/security/login", data="x")
        assert (r.status_code, r.get_json()["code"]) == (status, code), (body, r.get_json())
        assert JAPANESE.search(r.get_json()["message"])
