"""The calendar, the employer's monthly list and the site board on screen: each role sees its scope only."""
from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

from corrections_world import add_device, add_event, add_history, built, world_app  # noqa: F401  (fixtures)
from portal.app.db import db
from portal.demo import DEMO_PASSWORD
from portal.demo.testing import login

JST = ZoneInfo("Asia/Tokyo")


def client(app, username):
    c = app.test_client()
    assert login(c, username, DEMO_PASSWORD).status_code == 200
    return c


def october(app, ids):
    with app.app_context():
        s = db.session
        add_history(s, ids, "w1", datetime.date(2026, 10, 1), methods="IC")
        add_history(s, ids, "w1", datetime.date(2026, 10, 2), methods="IC,直接")
        add_history(s, ids, "w1", datetime.date(2026, 10, 3), methods="直接", counted=False, reason="site_unapproved")
        add_history(s, ids, "w2", datetime.date(2026, 10, 1), employer="S2", trade="tobi", position="一般", methods="QR")


def test_worker_calendar_shows_marks_totals_summary_and_progress(world_app, built):
    october(world_app, built)
    page = client(world_app, "w1").get(f"/work-calendar/?ym=2026-10&worker={built['w2']}").get_data(as_text=True)
    assert "目黒 一郎" in page and "広尾 二郎" not in page  # a worker sees itself whatever it asks for
    assert re.search(r'<td class="ccus-day" data-day="2"><a class="ccus-day-link" href="#day-\d+"[^>]*>IC/直接</a></td>', page)
    # each day's cell opens that day's note: why it does not count and who can fix it
    third = re.search(r'<td class="ccus-day" data-day="3"><a class="ccus-day-link" href="#(day-\d+)"[^>]*>直接</a></td>', page)
    note = page[page.index(f'id="{third.group(1)}"'):][:1500]
    assert "10/3" in note and "元請現場未承認" in note and "元請事業者が現場を承認すると計上されます" in note
    assert '<td id="work-days" data-label="就業日数">2</td>' in page
    assert '<td id="history-count" data-label="就業履歴数">2</td>' in page
    assert "現場登録済(計上) 2件、現場未承認(非計上) 1件、現場未登録(非計上) 0件" in page
    assert '<td id="kentaikyo">加入</td>' in page
    assert "鉄筋" in page and "2 / 645日（あと643日）" in page  # progress toward level 2


def test_calendar_for_employers_and_primes_follows_scope(world_app, built):
    october(world_app, built)
    s1 = client(world_app, "s1").get(f"/work-calendar/?ym=2026-10&worker={built['w1']}").get_data(as_text=True)
    assert "IC/直接" in s1
    o = client(world_app, "o").get(f"/work-calendar/?ym=2026-10&worker={built['w1']}").get_data(as_text=True)
    assert "目黒 一郎" not in o and "IC/直接" not in o
    bad = client(world_app, "s1").get("/work-calendar/?ym=2026-99", follow_redirects=True).get_data(as_text=True)
    assert "YYYY-MM" in bad


def test_employer_month_lists_its_own_workers(world_app, built):
    october(world_app, built)
    s1 = client(world_app, "s1").get("/employer-month/?ym=2026-10").get_data(as_text=True)
    assert "目黒 一郎" in s1 and "広尾 二郎" not in s1  # w2 belongs to S2, though S1 sees it on the roster
    s2 = client(world_app, "s2").get("/employer-month/?ym=2026-10").get_data(as_text=True)
    assert "広尾 二郎" in s2 and "目黒 一郎" not in s2
    r = client(world_app, "w1").get("/employer-month/?ym=2026-10")
    assert r.status_code in (302, 403)


def test_site_board_flags_silent_devices_for_the_prime_only(world_app, built):
    now = datetime.datetime.now(JST)
    with world_app.app_context():
        add_device(db.session, built, name="ゲート端末A", created=now - datetime.timedelta(days=30))
    page = client(world_app, "p").get("/site-board/").get_data(as_text=True)
    assert "現場X" in page and 'id="silent-devices"' in page and "ゲート端末A" in page
    manager = client(world_app, "p-genba").get(f"/site-board/?site={built['X']}").get_data(as_text=True)
    assert 'id="silent-devices"' in manager
    sub = client(world_app, "s1").get(f"/site-board/?site={built['X']}").get_data(as_text=True)
    assert "元請として登録された現場がありません" in sub and "ゲート端末A" not in sub
    q = client(world_app, "q").get(f"/site-board/?site={built['X']}").get_data(as_text=True)
    assert "この現場のボードは表示できません" in q and "ゲート端末A" not in q
    assert client(world_app, "w1").get("/site-board/").status_code in (302, 403)


def test_site_board_shows_who_is_on_site(world_app, built):
    now = datetime.datetime.now(JST)
    with world_app.app_context():
        device = add_device(db.session, built, name="reader", created=now - datetime.timedelta(days=1))
        add_event(db.session, built, device, now - datetime.timedelta(seconds=60))  # an entry a minute ago
    page = client(world_app, "p").get("/site-board/").get_data(as_text=True)
    if (now - datetime.timedelta(seconds=60)).date() == now.date():  # not just past midnight in Tokyo
        assert '<h3 id="on-site-count">1人</h3>' in page and "目黒 一郎（30154216388821）" in page
        assert '<h3 id="entries-today">1人</h3>' in page


def test_site_board_shows_induction_not_given_to_who_sees_the_board(world_app, built):
    from sqlalchemy import update

    from portal.models import SiteWorkerRegistration
    from portal.people.scoping import ALL, using_scope

    now = datetime.datetime.now(JST)
    with world_app.app_context(), using_scope(db.session, ALL):
        reg = db.session.execute(update(SiteWorkerRegistration).where(SiteWorkerRegistration.worker_id == built["w2"])
                                 .values(entry_education_on=None).returning(SiteWorkerRegistration.id)).scalar_one()
        db.session.commit()
        device = add_device(db.session, built, name="reader", created=now - datetime.timedelta(days=3))
        add_event(db.session, built, device, now - datetime.timedelta(days=1))
        add_event(db.session, built, device, now - datetime.timedelta(days=1), worker="w2")
    row = re.compile(r'<tr class="danger"><td>広尾 二郎[^<]*</td><td>\(株\)S2建設（12345678901222）</td>\s*<td>\d{4}年\d\d月\d\d日</td>'
                     r'<td>新規入場者教育未実施</td>')
    for who in ("p", "p-genba"):  # the prime cannot change S2's roster row: it is shown, naming who enters the date
        c = client(world_app, who)
        page = c.get(f"/site-board/?site={built['X']}").get_data(as_text=True)
        assert row.search(page), who
        assert "目黒 一郎（30154216388821）</td><td>(株)S1建設" not in page and page.count("新規入場者教育未実施</td>") == 1  # w1 has its 受入教育実施日
        link = f'href="/siteworkerregistrationview/show/{reg}">名簿を表示（(株)S2建設が登録）</a>'
        assert link in page, who
        assert c.get(f"/siteworkerregistrationview/show/{reg}").status_code == 200, who
    admin = client(world_app, "admin")
    page = admin.get(f"/site-board/?site={built['X']}").get_data(as_text=True)
    assert f'href="/siteworkerregistrationview/edit/{reg}">受入教育実施日を登録</a>' in page
    assert admin.get(f"/siteworkerregistrationview/edit/{reg}").status_code == 200
    for who in ("s1", "s2", "q"):  # no board of site X for them: nor its induction list
        page = client(world_app, who).get(f"/site-board/?site={built['X']}").get_data(as_text=True)
        assert "新規入場者教育未実施" not in page and "広尾 二郎" not in page, who
    assert client(world_app, "w2").get("/site-board/").status_code in (302, 403)
