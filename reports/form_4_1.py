"""4-1 現場・契約情報 (技能者(元請の公開設定項目のみ)、元請、上位下請(元請の公開設定項目のみ)): one site's
information. The portal has no per-item publication setting yet, so everybody but the prime gets the site's
public items (名称, 現場ID, 元請, 施工場所, 工事区分・内容, 蓄積期間); the prime (and the administrator) get all."""
from __future__ import annotations

from sqlalchemy import select

from portal.app.errors import DomainError
from portal.models import Site
from reports import register
from reports.base import PRIME, UPPER, WORKER, Output, Params, Report, Viewer
from reports.pairs import record_output


def site_of(session, viewer: Viewer, params: Params) -> Site:
    stmt = select(Site).order_by(Site.name)
    if params.site is not None:
        stmt = stmt.where(Site.id == params.site)
    site = session.execute(stmt.limit(1)).scalars().first()
    if site is None:
        raise DomainError("site_not_visible", "出力できる現場がありません（現場を選んでください）。", 404)
    return site


def build(session, viewer: Viewer, params: Params) -> Output:
    s = site_of(session, viewer, params)
    public = [("現場ID", s.site_id), ("現場名", s.name), ("元請事業者", s.prime_employer.name if s.prime_employer else ""),
              ("施工場所", s.location), ("工事区分", s.work_category), ("工事内容", s.work_content),
              ("就業履歴蓄積期間(開始)", s.accumulation_start), ("就業履歴蓄積期間(終了)", s.accumulation_end)]
    full = viewer.scope.is_all or s.id in viewer.scope.prime_site_ids
    private = [("発注区分", s.order_type), ("有害物質取扱いの有無", s.hazardous_substances), ("元請による現場承認", s.approved),
               ("発注者名", s.client_name), ("受注形態", s.contract_form), ("工期(開始)", s.contract_start),
               ("工期(終了)", s.contract_end), ("現場代理人", s.site_agent)] if full else []
    return record_output(public + private, subtitle=f"{s}" + ("" if full else "　元請の公開項目のみ"))


REPORT = register(Report(id="4-1", title="現場・契約情報", parties=(WORKER, PRIME, UPPER), filters=("site",), build=build,
                         note="技能者・上位下請は元請の公開項目のみ。"))
