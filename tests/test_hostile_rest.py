"""No input to a REST API or a screen gives a 500: ids beyond the 32-bit serials, foreign keys sent as objects,
strings or 2^31, NUL in text, a body that is a list, out-of-range paging and filter values, and sorting a list
by a property it shows. Each answers 400 or 404 (422 for a field FAB's schema refuses) with a stable code and a
Japanese message; screens with a Japanese page. On SQLite and PostgreSQL (the refusals come from different
places: the driver, the database)."""
from __future__ import annotations

import json
import re

from portal.demo.testing import api_token, login, login_of

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
BIG = 2 ** 31

API_PROBES = [
    ("GET", f"/api/v1/workers/{BIG}", None, {404: "not_found"}),
    ("PUT", f"/api/v1/workers/{BIG}", {"name": "x"}, {404: "not_found"}),
    ("DELETE", f"/api/v1/sites/{BIG}", None, {404: "not_found"}),
    ("GET", "/api/v1/workers/99999999999999999999999", None, {404: "not_found"}),
    ("GET", "/api/v1/workers/-1", None, {404: "not_found", 405: "method_not_allowed"}),
    ("POST", "/api/v1/site-workers/", {"site": {"a": 1}, "worker": 1, "employer": 1}, {400: "invalid_value", 403: "out_of_scope", 422: "validation_error"}),
    ("POST", "/api/v1/site-workers/", {"site": "abc", "worker": 1, "employer": 1}, {400: "invalid_value", 403: "out_of_scope", 422: "validation_error"}),
    ("POST", "/api/v1/site-workers/", {"site": BIG, "worker": BIG, "employer": BIG}, {400: "invalid_value", 403: "out_of_scope", 422: "validation_error"}),
    ("PUT", "/api/v1/workers/1", {"name": "a\u0000b"}, {400: "invalid_value", 404: "not_found"}),
    ("POST", "/api/v1/sites/", [1, 2], {400: "invalid_body"}),
    ("PUT", "/api/v1/workers/1", [1], {400: "invalid_body"}),
    ("GET", "/api/v1/workers/?q=(page:-1)", None, {200: None, 400: "invalid_value"}),
    ("GET", "/api/v1/workers/?q=(page:99999999999999999999)", None, {400: "invalid_value"}),
    ("GET", "/api/v1/workers/?q=(filters:!((col:level,opr:gt,value:99999999999)))", None, {200: None, 400: "invalid_value"}),
    ("GET", "/api/v1/affiliations/?q=(filters:!((col:is_primary,opr:eq,value:maybe)))", None, {200: None, 400: "invalid_value"}),
    ("GET", "/api/v1/structure-links/?q=(filters:!((col:prime_employer,opr:rel_o_m,value:abc)))", None, {400: "bad_request"}),
    ("GET", "/api/v1/workers/?q=(order_column:level_label,order_direction:asc)", None, {400: "bad_request"}),
    ("GET", "/api/v1/workers/?q=(((", None, {400: "invalid_value"}),
    ("GET", "/api/v1/work-histories/?q=(filters:!((col:work_date,opr:gt,value:'99999-01-01')))", None, {200: None, 400: "invalid_value"}),
    ("GET", "/api/v1/no-such-resource/", None, {404: "not_found"}),
]


def test_hostile_rest_requests_are_answered_with_a_code_and_a_japanese_message_never_500(demo_app):
    demo_app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a fault would be a 500 answer here
    client = demo_app.test_client()
    employer = login_of(demo_app, "employer")
    headers = {"Authorization": f"Bearer {api_token(client, employer['login'], employer['password'])}"}
    for method, url, body, expected in API_PROBES:
        r = client.open(url, method=method, headers=headers, content_type="application/json",
                        data=json.dumps(body) if body is not None else None)
        assert r.status_code in expected, (method, url, r.status_code, r.get_data(as_text=True)[:300])
        if expected[r.status_code] is not None:
            answer = r.get_json()
            assert answer["code"] == expected[r.status_code], (method, url, answer)
            if answer["code"] != "validation_error":  # FAB's field messages stay per field
                assert JAPANESE.search(answer["message"]), (method, url, answer)
    # the session is usable after each refusal (PostgreSQL aborts a transaction at its first error)
    assert client.get("/api/v1/workers/", headers=headers).status_code == 200


SCREEN_PROBES = [
    "/workerview/list/?_oc_WorkerView=level_label&_od_WorkerView=asc",  # properties FAB offered as sortable
    "/workerview/list/?_oc_WorkerView=trade_names&_od_WorkerView=asc",
    "/workerview/list/?_oc_WorkerView=name&_od_WorkerView=sideways",
    "/workerview/list/?_flt_0_level=abc",
    "/workerview/list/?_flt_0_level=99999999999",
    "/workerview/list/?page_WorkerView=-1",
    f"/workerview/show/{BIG}",
    "/workerview/edit/99999999999999999999",
]


def test_hostile_screen_requests_never_give_500_and_refusals_are_japanese_pages(demo_app):
    demo_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = demo_app.test_client()
    employer = login_of(demo_app, "employer")
    login(client, employer["login"], employer["password"])
    for url in SCREEN_PROBES:
        r = client.get(url)
        assert r.status_code in (200, 400, 404), (url, r.status_code)
        if r.status_code != 200:
            page = r.get_data(as_text=True)
            assert "エラーコード" in page and JAPANESE.search(page), url
    page = client.get("/workerview/list/").get_data(as_text=True)
    assert "_oc_WorkerView=level_label" not in page and "_oc_WorkerView=trade_names" not in page  # not offered
    assert "_oc_WorkerView=name" in page  # a real column still is
