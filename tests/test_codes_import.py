"""Administrators import the official code lists on a screen; bad rows change nothing; others are refused."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from portal.app.db import db
from portal.models import Qualification, Trade
from portal.people.scoping import ALL, using_scope


def counts(app):
    with app.app_context(), using_scope(db.session, ALL):
        return (db.session.execute(select(func.count()).select_from(Trade)).scalar(),
                db.session.execute(select(func.count()).select_from(Qualification)).scalar())


def upload(client, trades=None, qualifications=None):
    data = {}
    if trades is not None:
        data["trades"] = (io.BytesIO(trades.encode("utf-8-sig")), "trades.csv")
    if qualifications is not None:
        data["qualifications"] = (io.BytesIO(qualifications.encode("utf-8")), "q.csv")
    return client.post("/codeimportview/form", data=data, content_type="multipart/form-data", follow_redirects=True)


def test_admin_imports_and_updates(client_for, demo_app):
    client, _ = client_for("admin")
    trades_before, quals_before = counts(demo_app)
    page = upload(client, "major_code,major_name,minor_code,minor_name,evaluable\n35,左官,01,左官工,Y(左官)\n"
                          "10,鉄筋工,01,鉄筋工(改),Y(鉄筋)\n",
                  "code,name,category\n12345,試験資格,技能講習\n")
    assert "職種 2 件、資格 1 件を取り込みました" in page.get_data(as_text=True)
    assert counts(demo_app) == (trades_before + 1, quals_before + 1)
    with demo_app.app_context(), using_scope(db.session, ALL):
        renamed = db.session.execute(select(Trade).where(Trade.major_code == "10", Trade.minor_code == "01")).scalar_one()
        assert renamed.minor_name == "鉄筋工(改)"


def test_bad_rows_change_nothing(client_for, demo_app):
    client, _ = client_for("admin")
    before = counts(demo_app)
    page = upload(client, "major_code,major_name,minor_code,minor_name,evaluable\n35,左官,01,左官工,?\n36,配管工,1,誤り,?\n")
    assert "3行目" in page.get_data(as_text=True) and "2桁" in page.get_data(as_text=True)
    assert counts(demo_app) == before


def test_only_administrators(client_for, demo_app):
    client, _ = client_for("prime")
    before = counts(demo_app)
    r = upload(client, "major_code,major_name,minor_code,minor_name,evaluable\n35,左官,01,左官工,?\n")
    assert "取り込みました" not in r.get_data(as_text=True)
    assert counts(demo_app) == before
