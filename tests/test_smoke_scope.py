from portal.demo.testing import login_of


def test_employer_sees_only_own_workers(client_for, demo_app):
    client, entry = client_for("employer", 0)
    page = client.get("/workerview/list/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "技能者" in html
