"""Each role lands on its own first screen after login."""
import pytest


@pytest.mark.parametrize("role,path", [("worker", "/worker/"), ("site_manager", "/site-board/"),
                                       ("employer", "/workerview/list/"), ("prime", "/workerview/list/")])
def test_landing_page_by_role(client_for, role, path):
    client, _entry = client_for(role)
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith(path)
    assert client.get(path).status_code == 200


def test_admin_and_anonymous_keep_the_index(client_for, demo_app):
    client, _ = client_for("admin")
    assert client.get("/").status_code == 200
    assert demo_app.test_client().get("/").status_code == 200
