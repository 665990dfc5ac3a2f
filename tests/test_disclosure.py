"""開示設定: the rule (portal.people.disclosure.decide / may_see) over random consents and viewers, on the demo's
A現場工事 (元請A → 基金一次建設 → 基金建設; 元請A → a sibling branch), with the seed's 目黒 一郎 (基金建設) as
the worker. The expected answers come from the seed's prose, written here independently of the code."""
from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from portal.people import disclosure
from portal.app.db import db
from portal.app.errors import DomainError, ScopeError
from portal.models import Affiliation, Employer, Site, SiteWorkerRegistration, StructureLink, Worker
from portal.models.disclosure import CONSENTABLE, ITEMS, NEVER_ITEMS, ROSTER_ITEMS, DisclosureSetting
from portal.people.scoping import ALL, NONE, employer_scope, using_scope, worker_scope

ITEM_CODES = [i.code for i in ITEMS]
CONSENT_CODES = [i.code for i in CONSENTABLE]
MEGURO, MIRAI = "30154216388821", "93845751166921"
PRIME_A, KIKIN1 = "41522937006822", "66679345433022"


# --- the pure rule -------------------------------------------------------------------------------------------

@given(kind=st.sampled_from(["self", "admin", "employer", "roster", "other", "nobody"]),
       consented=st.frozensets(st.sampled_from(CONSENT_CODES)), item=st.sampled_from(ITEM_CODES))
def test_rule_over_random_consents(kind, consented, item):
    allowed = disclosure.decide(disclosure.Relation(kind, consented), item)
    if kind in ("self", "admin"):
        assert allowed
    elif kind == "employer":
        assert allowed == (item != "past_employers")
    elif kind == "roster":
        assert allowed == ((item in ROSTER_ITEMS or item in consented) and item not in NEVER_ITEMS)
    elif kind == "other":
        assert allowed == (item in consented)
    else:
        assert not allowed
    if kind not in ("self", "admin"):
        assert not (item == "past_employers" and allowed), "過去の所属事業者 leaked"
        if kind != "employer":
            assert not (item == "birth_date" and allowed), "生年月日 leaked to another company"


def test_item_list_is_complete_and_never_items_are_not_switches():
    assert {"photo", "level", "name", "address", "phone", "email", "trades", "social_insurance", "qualifications",
            "education", "birth_date", "past_employers"} <= set(ITEM_CODES)
    assert NEVER_ITEMS == {"birth_date", "past_employers"}
    assert not NEVER_ITEMS & set(CONSENT_CODES)
    assert "birth_date" not in ROSTER_ITEMS and "age" in ROSTER_ITEMS
    with pytest.raises(ValueError):
        disclosure.decide(disclosure.Relation("self"), "no_such_item")


# --- against the database ------------------------------------------------------------------------------------

def _pk(session, model, column, value):
    return session.execute(select(model.id).where(getattr(model, column) == value)).scalar_one()


def _world(session):
    """The demo's A現場 actors, by role relative to 目黒 一郎 (registered on A現場 by 基金建設)."""
    with using_scope(session, ALL):
        site_a = session.execute(select(Site).where(Site.site_id == "36265810102371")).scalar_one()
        meguro = _pk(session, Worker, "worker_id", MEGURO)
        kikin = session.execute(select(Affiliation.employer_id).where(
            Affiliation.worker_id == meguro, Affiliation.status == "承認済")).scalar_one()
        kikin1 = _pk(session, Employer, "employer_id", KIKIN1)
        prime = _pk(session, Employer, "employer_id", PRIME_A)
        links = session.execute(select(StructureLink).where(StructureLink.site_id == site_a.id,
                                                              StructureLink.status == "承認済")).scalars().all()
        sibling = next(lk.lower_employer_id for lk in links if lk.upper_employer_id == prime and lk.lower_employer_id != kikin1)
        below_sibling = next(lk.lower_employer_id for lk in links if lk.upper_employer_id == sibling)
        mirai = _pk(session, Worker, "worker_id", MIRAI)
        prime_b = session.execute(select(Employer.id).where(Employer.name == "(株)元請B")).scalar_one()
    return {"site_a": site_a.id, "meguro": meguro, "employer": kikin, "upper": kikin1, "prime": prime,
            "sibling": sibling, "below_sibling": below_sibling, "stranger": prime_b, "mirai": mirai}


EXPECTED_RELATION = {"employer": "employer", "upper": "roster", "prime": "roster", "sibling": "other",
                     "below_sibling": "other", "stranger": "other"}


def _consent(session, world, worker_side, employer_side):
    w = world["meguro"]
    disclosure.set_consents(session, worker_scope(session, w), w, {c: c in worker_side for c in CONSENT_CODES})
    disclosure.set_consents(session, employer_scope(session, world["employer"]), w,
                            {c: c in employer_side for c in CONSENT_CODES})
    session.commit()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(worker_side=st.frozensets(st.sampled_from(CONSENT_CODES)),
       employer_side=st.frozensets(st.sampled_from(CONSENT_CODES)),
       viewer=st.sampled_from(sorted(EXPECTED_RELATION)), item=st.sampled_from(ITEM_CODES))
def test_may_see_over_random_consents_and_viewers(demo_app, worker_side, employer_side, viewer, item):
    with demo_app.app_context():
        session = db.session
        world = _world(session)
        _consent(session, world, worker_side, employer_side)
        scope = employer_scope(session, world[viewer])
        allowed = disclosure.may_see(session, scope, world["meguro"], item)
        both = worker_side & employer_side
        kind = EXPECTED_RELATION[viewer]
        if kind == "employer":
            expected = item != "past_employers"
        elif kind == "roster":
            expected = item in ROSTER_ITEMS or item in both
        else:
            expected = item in both
        assert allowed == expected, (viewer, item, sorted(both))
        assert disclosure.visible_items(session, scope, world["meguro"]) == {
            c for c in ITEM_CODES if disclosure.may_see(session, scope, world["meguro"], c)}
        # the worker sees everything of itself; another worker nothing
        own = worker_scope(session, world["meguro"])
        assert disclosure.may_see(session, own, world["meguro"], item)
        assert not disclosure.may_see(session, worker_scope(session, world["mirai"]), world["meguro"], item)
        assert disclosure.may_see(session, ALL, world["meguro"], item)
        assert not disclosure.may_see(session, NONE, world["meguro"], item)


def test_changing_employer_cancels_access_and_consent_at_once(demo_app):
    with demo_app.app_context():
        session = db.session
        world = _world(session)
        _consent(session, world, set(CONSENT_CODES), set(CONSENT_CODES))
        w, old = world["meguro"], world["employer"]
        stranger = employer_scope(session, world["stranger"])
        assert disclosure.may_see(session, stranger, w, "qualifications")
        old_scope = employer_scope(session, old)
        assert disclosure.may_see(session, old_scope, w, "address")
        with using_scope(session, ALL):  # 転職: the old link is cancelled (取消), a new one approved
            link = session.execute(select(Affiliation).where(Affiliation.worker_id == w,
                                                             Affiliation.employer_id == old)).scalar_one()
            link.status, link.ended_on = "取消", datetime.date.today()
            session.add(Affiliation(worker_id=w, employer_id=world["stranger"], status="承認済"))
            session.commit()
        # the old employer's scope object was computed before: the answer is still fresh
        assert disclosure.visible_items(session, old_scope, w) == frozenset()
        # the old employer's consent lapsed: nothing reaches other companies until the new employer agrees
        assert disclosure.visible_items(session, employer_scope(session, world["sibling"]), w) == frozenset()
        assert disclosure.settings(session, w)["qualifications"] == (True, False)
        # the new employer sees everything but past employers; the birth date too, as its own worker
        new = employer_scope(session, world["stranger"])
        assert disclosure.may_see(session, new, w, "birth_date")
        assert not disclosure.may_see(session, new, w, "past_employers")
        disclosure.set_consents(session, new, w, {"qualifications": True})
        session.commit()
        assert disclosure.visible_items(session, employer_scope(session, world["sibling"]), w) == {"qualifications"}


def test_roster_access_ends_with_the_registration(demo_app):
    with demo_app.app_context():
        session = db.session
        world = _world(session)
        prime = employer_scope(session, world["prime"])
        assert disclosure.may_see(session, prime, world["meguro"], "social_insurance")
        assert not disclosure.may_see(session, prime, world["meguro"], "birth_date")
        assert not disclosure.may_see(session, prime, world["meguro"], "email")
        with using_scope(session, ALL):
            reg = session.execute(select(SiteWorkerRegistration).where(
                SiteWorkerRegistration.worker_id == world["meguro"])).scalar_one()
            reg.end_date = datetime.date.today() - datetime.timedelta(days=1)
            session.commit()
        assert not disclosure.may_see(session, prime, world["meguro"], "social_insurance")
        assert disclosure.may_see(session, prime, world["meguro"], "social_insurance",
                                  today=datetime.date.today() - datetime.timedelta(days=2))


def test_site_manager_sees_the_roster_of_its_assigned_site_only(demo_app):
    from portal.models import PortalUser

    with demo_app.app_context():
        session = db.session
        world = _world(session)
        with using_scope(session, ALL):
            manager = session.execute(select(PortalUser).where(PortalUser.username == "genba-a")).scalar_one()
            on_a = select(SiteWorkerRegistration.worker_id).where(SiteWorkerRegistration.site_id == world["site_a"])
            other_worker = session.execute(select(SiteWorkerRegistration.worker_id).where(
                SiteWorkerRegistration.worker_id.not_in(on_a))).scalars().first()
            prime_scope = employer_scope(session, world["prime"])
        scope = employer_scope(session, world["prime"], manager_user_id=manager.id)
        assert disclosure.may_see(session, scope, world["meguro"], "qualifications")
        assert not disclosure.may_see(session, scope, world["meguro"], "email")
        assert disclosure.visible_items(session, scope, other_worker) == frozenset()
        # the company itself, as prime of the other sites, does see that worker's roster items (if on its sites)
        assert disclosure.visible_items(session, prime_scope, other_worker) in (frozenset(), ROSTER_ITEMS)


def test_consent_sides_are_guarded(demo_app):
    with demo_app.app_context():
        session = db.session
        world = _world(session)
        w = world["meguro"]
        own = worker_scope(session, w)
        with pytest.raises(DomainError) as e:
            disclosure.set_consents(session, own, w, {"birth_date": True})
        assert e.value.code == "never_disclosed_item"
        with pytest.raises(DomainError) as e:
            disclosure.set_consents(session, employer_scope(session, world["prime"]), w, {"trades": True})
        assert e.value.status == 403
        session.rollback()
        disclosure.set_consents(session, own, w, {"trades": True})
        session.commit()
        # a worker cannot switch the employer's side on by writing the row itself
        with using_scope(session, own):
            row = session.execute(select(DisclosureSetting).where(DisclosureSetting.worker_id == w)).scalar_one()
            row.employer_consent = True
            with pytest.raises(ScopeError):
                session.flush()
            session.rollback()
        # nor the employer the worker's side, nor can anybody delete a row
        with using_scope(session, employer_scope(session, world["employer"])):
            row = session.execute(select(DisclosureSetting).where(DisclosureSetting.worker_id == w)).scalar_one()
            row.worker_consent = False
            with pytest.raises(ScopeError):
                session.flush()
            session.rollback()
            row = session.execute(select(DisclosureSetting).where(DisclosureSetting.worker_id == w)).scalar_one()
            session.delete(row)
            with pytest.raises(ScopeError):
                session.flush()
            session.rollback()
        # rows of other workers are invisible to the worker
        with using_scope(session, own):
            assert {r.worker_id for r in session.execute(select(DisclosureSetting)).scalars()} == {w}
        assert disclosure.settings(session, w)["trades"] == (True, False)


def test_worker_information_returns_only_allowed_items(demo_app):
    with demo_app.app_context():
        session = db.session
        world = _world(session)
        w = world["meguro"]
        assert disclosure.worker_information(session, employer_scope(session, world["stranger"]), w) is None
        info = disclosure.worker_information(session, employer_scope(session, world["prime"]), w)
        assert info["relation"] == "roster" and set(info["items"]) == ROSTER_ITEMS
        assert "birth_date" not in info["items"] and "birth_date" in info["hidden"]
        assert info["items"]["name"]["name"] == "目黒 一郎"
        full = disclosure.worker_information(session, employer_scope(session, world["employer"]), w)
        assert full["items"]["birth_date"] == datetime.date(1980, 5, 10)
        assert "past_employers" not in full["items"]
        own = disclosure.worker_information(session, worker_scope(session, w), w)
        assert "past_employers" in own["items"] and own["items"]["age"] >= 40
