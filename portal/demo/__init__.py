"""Demo data: the seed example of the operator's guide ((株)元請A, (株)基金一次建設, A現場工事, 建設 未来, 目黒 一郎,
広尾 二郎) plus generated employers in three tiers, sites and workers, deterministic for a given seed.

The same builders serve the tests (portal.demo.testing), so what the demo shows is what the tests prove.
"""
from __future__ import annotations

import datetime
import random

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.app import clock
from portal.people import codes, passwords
from portal.devices.credentials import keys_from_config
from portal.models import (
    Affiliation,
    Employer,
    EmployerDetail,
    Qualification,
    Site,
    SiteManagerAssignment,
    SiteWorkerRegistration,
    StructureLink,
    Trade,
    Worker,
    WorkerInsurance,
    WorkerPersonal,
    WorkerQualification,
    WorkerTrade,
)
from portal.models.employers import DETAIL_COLUMNS
from portal.people.scoping import ALL, ROLE_ADMIN, ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER, using_scope

DEMO_PASSWORD = "Ccus-demo-2026"
ADMIN_LOGIN = "admin"

SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木",
            "山口", "松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森", "池田", "橋本", "阿部", "石川"]
SURNAME_KANA = ["サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト", "ナカムラ", "コバヤシ", "カトウ",
                "ヨシダ", "ヤマダ", "ササキ", "ヤマグチ", "マツモト", "イノウエ", "キムラ", "ハヤシ", "サイトウ", "シミズ",
                "ヤマザキ", "モリ", "イケダ", "ハシモト", "アベ", "イシカワ"]
GIVEN = [("大輔", "ダイスケ"), ("健太", "ケンタ"), ("翔太", "ショウタ"), ("拓也", "タクヤ"), ("誠", "マコト"),
         ("直樹", "ナオキ"), ("和也", "カズヤ"), ("勇気", "ユウキ"), ("浩二", "コウジ"), ("達也", "タツヤ"),
         ("美咲", "ミサキ"), ("陽子", "ヨウコ"), ("隆", "タカシ"), ("修", "オサム"), ("亮", "リョウ")]
WARDS = ["港区", "品川区", "目黒区", "渋谷区", "新宿区", "江東区", "大田区", "世田谷区", "練馬区", "足立区"]


def make_id(rng: random.Random, suffix: str, taken: set) -> str:
    """A 14-digit ID with the entity suffix observed in the guide's samples (21 worker, 22 employer, 71 site)."""
    while True:
        value = f"{rng.randrange(10**11, 10**12)}{suffix}"
        if value not in taken:
            taken.add(value)
            return value


def new_employer(**values) -> Employer:
    """An Employer with its EmployerDetail (the non-public part of its registration) from one set of values."""
    detail = {k: values.pop(k) for k in DETAIL_COLUMNS if k in values}
    return Employer(**values, detail=EmployerDetail(**detail))


def add_login(sm, username: str, password: str, role: str, *, first_name: str, last_name: str,
              employer: Employer | None = None, worker: Worker | None = None):
    """A portal login through FAB's own user creation (so passwords are hashed by FAB's mechanism)."""
    user = sm.add_user(username=username, first_name=first_name, last_name=last_name or "-",
                       email=f"{username}@demo.ccus.invalid", role=sm.find_role(role), password=password)
    if user is None:
        raise RuntimeError(f"could not create login {username}")
    user.employer_id = employer.id if employer else None
    user.worker_id = worker.id if worker else None
    sm.session.commit()
    return user


def _trade(session: Session, major: str, minor: str) -> Trade | None:
    return session.execute(select(Trade).where(Trade.major_code == major, Trade.minor_code == minor)).scalar_one_or_none()


def _qualification(session: Session, code: str) -> Qualification | None:
    return session.execute(select(Qualification).where(Qualification.code == code)).scalar_one_or_none()


def add_worker(session: Session, *, worker_id: str, name: str, kana: str, employer: Employer, birth: datetime.date,
               trades=(), qualification_codes=(), level: int = 1, rng: random.Random | None = None,
               address: str = "東京都港区虎ノ門1-1-1", sex: str = "男", kentaikyo: bool = False) -> Worker:
    rng = rng or random.Random(worker_id)
    w = Worker(worker_id=worker_id, name=name, name_kana=kana, level=level,
               level_since=datetime.date(2019, 7, 19), registration_type="詳細型", identity_document=True,
               registered_on=datetime.date(2019, 7, 19), card_expires_on=datetime.date(2029, 7, 18))
    session.add(w)
    session.flush()
    session.add(WorkerPersonal(
        worker_id=w.id, birth_date=birth, sex=sex, blood_type=rng.choice(["A", "B", "O", "AB"]),
        postal_code=f"{rng.randrange(100, 199)}-{rng.randrange(1000, 9999)}", address=address,
        phone_mobile=f"090-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}",
        email=f"w{worker_id[-6:]}@example.invalid", emergency_name="緊急 連絡", emergency_phone="03-0000-0000",
        nationality="日本", health_check_major="一般健康診断", health_check_minor="一般健康診断",
        health_check_date=datetime.date(2026, 4, 1)))
    session.add(WorkerInsurance(
        worker_id=w.id, health_status="加入", health_type=rng.choice(["健康保険組合", "協会けんぽ", "国民健康保険"]),
        pension_status="加入", pension_type="厚生年金", employment_status=rng.choice(["加入", "加入", "適用除外"]),
        employment_exemption_reason=None, kentaikyo=kentaikyo,
        kentaikyo_number=f"{rng.randrange(10**12, 10**13)}" if kentaikyo else None))
    for pos, trade in enumerate(t for t in trades if t is not None):
        session.add(WorkerTrade(worker_id=w.id, trade_id=trade.id, position=pos + 1, experience_years=rng.randrange(1, 25)))
    for code in qualification_codes:
        q = _qualification(session, code)
        if q is not None:
            obtained = datetime.date(2015 + rng.randrange(8), 4, 1)
            session.add(WorkerQualification(worker_id=w.id, qualification_id=q.id, obtained_on=obtained,
                                            created_at=_recorded(obtained), proof_attached=True))
    session.add(Affiliation(worker_id=w.id, employer_id=employer.id, status="承認済", is_primary=True,
                            started_on=datetime.date(2019, 4, 1)))
    session.flush()
    return w


def _recorded(day: datetime.date) -> datetime.datetime:
    """When the demo's master data "was recorded": on the day it starts (so the demo's past days, closed since,
    derive with it; portal.history.histories does not let a fact recorded after a day's deadline reach that day)."""
    return datetime.datetime.combine(day, datetime.time(9), datetime.timezone(datetime.timedelta(hours=9)))


def link(session: Session, site: Site, upper: Employer, lower: Employer, tier: int, status: str = "承認済") -> StructureLink:
    now = datetime.datetime(2026, 9, 1, tzinfo=datetime.timezone.utc)
    sl = StructureLink(site_id=site.id, upper_employer_id=upper.id, lower_employer_id=lower.id, tier=tier, status=status,
                       approved_at=now if status == "承認済" else None)
    session.add(sl)
    session.flush()
    return sl


def register_on_site(session: Session, site: Site, worker: Worker, employer: Employer, trade: Trade | None,
                     position: str, work_content: str, start: datetime.date, hazardous: bool = False):
    reg = SiteWorkerRegistration(site_id=site.id, worker_id=worker.id, employer_id=employer.id,
                                 trade_id=trade.id if trade else None, position=position, work_content=work_content,
                                 hazardous_work=hazardous, start_date=start, entry_education_on=start,
                                 created_at=_recorded(start))
    session.add(reg)
    session.flush()
    return reg


def build(session: Session, sm=None, *, workers: int = 300, seed: int = 20211101,
          today: datetime.date | None = None) -> list[dict]:
    """Seed the demo into an empty database; return the demo logins ({role, login, password, employer_id,
    worker_id, site_ids}). Logins are created only when ``sm`` (FAB's security manager) is given."""
    rng = random.Random(seed)
    today = today or clock.tokyo_today()
    start = today.replace(day=1) - datetime.timedelta(days=62)
    start = start.replace(day=1)
    taken = {"41522937006822", "66679345433022", "36265810102371", "93845751166921", "30154216388821", "17788930382321"}
    with using_scope(session, ALL):
        codes.seed(session)
        # --- employers: 3 primes, 7 first tier, 10 second tier -----------------------------------------------
        prime_a = new_employer(employer_id="41522937006822", name="(株)元請A", name_kana="(カブ)モトウケエー", corporate_type="法人",
                           address="東京都千代田区丸の内1-1-1", phone="03-1111-0001", representative="元請 太郎",
                           license_number="国土交通大臣許可(特-1)第00001号", capital_yen=500_000_000,
                           kentaikyo_contract_number="1001", registered_on=datetime.date(2019, 4, 1))
        kikin1 = new_employer(employer_id="66679345433022", name="(株)基金一次建設", name_kana="(カブ)キキンイチジケンセツ",
                          corporate_type="法人", address="東京都港区虎ノ門4-2-12", phone="03-5473-4570",
                          representative="基金 一郎", kentaikyo_contract_number="1320", registered_on=datetime.date(2019, 4, 1))
        kikin = new_employer(employer_id=make_id(rng, "22", taken), name="(株)基金建設", name_kana="(カブ)キキンケンセツ",
                         corporate_type="法人", address="東京都港区虎ノ門1-2-3", phone="03-5473-0000",
                         representative="基金 花子", kentaikyo_contract_number="1321", registered_on=datetime.date(2019, 4, 1))
        session.add_all([prime_a, kikin1, kikin])
        primes = [prime_a]
        for label in ("B", "C"):
            e = new_employer(employer_id=make_id(rng, "22", taken), name=f"(株)元請{label}", corporate_type="法人",
                         address=f"東京都{rng.choice(WARDS)}1-{rng.randrange(1, 30)}", kentaikyo_contract_number=str(rng.randrange(1000, 9999)))
            session.add(e)
            primes.append(e)
        first = [kikin1, kikin]
        for i in range(5):
            e = new_employer(employer_id=make_id(rng, "22", taken), name=f"(株){['東','西','南','北','中央'][i]}建工",
                         corporate_type="法人", address=f"東京都{rng.choice(WARDS)}{i + 1}-1",
                         kentaikyo_contract_number=str(rng.randrange(1000, 9999)))
            session.add(e)
            first.append(e)
        second = []
        for i in range(10):
            individual = i >= 8  # 一人親方 register as both employer and worker
            e = new_employer(employer_id=make_id(rng, "22", taken),
                         name=(f"{SURNAMES[i]}工業(株)" if not individual else f"{SURNAMES[i + 10]} 親方"),
                         corporate_type="個人" if individual else "法人", address=f"東京都{rng.choice(WARDS)}{i + 2}-5",
                         kentaikyo_contract_number=str(rng.randrange(1000, 9999)))
            session.add(e)
            second.append(e)
        session.flush()
        employers = primes + first + second

        # --- sites and structure ---------------------------------------------------------------------------
        site_a = Site(site_id="36265810102371", name="A現場工事", prime_employer_id=prime_a.id, order_type="民間工事",
                      accumulation_start=start, accumulation_end=today + datetime.timedelta(days=365),
                      hazardous_substances=False, approved=True, location="東京都港区", client_name="(株)発注者",
                      contract_start=start, contract_end=today + datetime.timedelta(days=365),
                      work_category="建築・住宅工事", work_content="駅舎新築工事", site_agent="現場 代理")
        sites = [site_a]
        specs = [("B駅前再開発工事", primes[0], "建築・住宅工事"), ("C橋梁補修工事", primes[1], "土木工事"),
                 ("D変電所更新工事", primes[1], "電気・空調衛生・その他工事"), ("E集合住宅新築工事", primes[2], "建築・住宅工事")]
        for name, prime, cat in specs:
            sites.append(Site(site_id=make_id(rng, "71", taken), name=name, prime_employer_id=prime.id,
                              order_type=rng.choice(["民間工事", "公共工事(都道府県)", "公共工事(市区町村)"]),
                              accumulation_start=start, accumulation_end=today + datetime.timedelta(days=300),
                              hazardous_substances=name.startswith("C"), approved=not name.startswith("E"),
                              work_category=cat, work_content=name.replace("工事", "") + "工事",
                              location=f"東京都{rng.choice(WARDS)}", contract_start=start))
        session.add_all(sites)
        session.flush()
        tree: dict[int, list[Employer]] = {}  # site id → employers in its approved structure (prime first)
        link(session, site_a, prime_a, kikin1, 1)
        link(session, site_a, kikin1, kikin, 2)
        link(session, site_a, prime_a, first[2], 1)
        link(session, site_a, first[2], second[0], 2)
        link(session, site_a, prime_a, first[3], 1, status="招待中")  # an invitation not yet approved
        tree[site_a.id] = [prime_a, kikin1, kikin, first[2], second[0]]
        for n, site in enumerate(sites[1:], start=1):
            prime = next(p for p in primes if p.id == site.prime_employer_id)
            ones = [first[(n + k) % len(first)] for k in range(2)]
            members = [prime]
            for k, one in enumerate(ones):
                link(session, site, prime, one, 1)
                members.append(one)
                two = second[(n * 2 + k) % len(second)]
                if two not in members:
                    link(session, site, one, two, 2)
                    members.append(two)
            tree[site.id] = members

        # --- workers ---------------------------------------------------------------------------------------
        common_trades = [t for t in (_trade(session, *c) for c in
                         [("10", "01"), ("06", "01"), ("06", "02"), ("34", "01"), ("36", "01"), ("12", "01"),
                          ("01", "11"), ("09", "01"), ("14", "02"), ("34", "03")]) if t is not None]
        qual_codes = [q.code for q in session.execute(select(Qualification)).scalars()]
        mirai = add_worker(session, worker_id="93845751166921", name="建設 未来", kana="ケンセツ ミライ", employer=kikin1,
                           birth=datetime.date(1986, 4, 1), trades=[], qualification_codes=[], rng=rng,
                           address="〒105-0001 東京都港区虎ノ門150-150")
        meguro = add_worker(session, worker_id="30154216388821", name="目黒 一郎", kana="メグロ イチロウ", employer=kikin,
                            birth=datetime.date(1980, 5, 10), trades=[_trade(session, "10", "01")],
                            qualification_codes=["40040"], level=2, rng=rng, kentaikyo=True)
        hiroo = add_worker(session, worker_id="17788930382321", name="広尾 二郎", kana="ヒロオ ジロウ", employer=kikin,
                           birth=datetime.date(1984, 8, 20), trades=[_trade(session, "06", "02")],
                           qualification_codes=["50052", "50058"], rng=rng, kentaikyo=True)
        all_workers = [(mirai, kikin1), (meguro, kikin), (hiroo, kikin)]
        subcontractors = first + second
        for i in range(max(0, workers - 3)):
            employer = subcontractors[i % len(subcontractors)] if i % 25 else primes[i % 3]
            surname = rng.randrange(len(SURNAMES))
            given, given_kana = rng.choice(GIVEN)
            w = add_worker(session, worker_id=make_id(rng, "21", taken), name=f"{SURNAMES[surname]} {given}",
                           kana=f"{SURNAME_KANA[surname]} {given_kana}", employer=employer,
                           birth=datetime.date(1960 + rng.randrange(45), rng.randrange(1, 13), rng.randrange(1, 28)),
                           trades=rng.sample(common_trades, k=min(len(common_trades), rng.choice([1, 1, 2]))),
                           qualification_codes=rng.sample(qual_codes, k=rng.randrange(0, 3)),
                           level=rng.choice([1, 1, 1, 2, 2, 3, 4]), rng=rng, kentaikyo=rng.random() < 0.6,
                           address=f"東京都{rng.choice(WARDS)}{rng.randrange(1, 9)}-{rng.randrange(1, 30)}-{rng.randrange(1, 20)}",
                           sex="女" if given in ("美咲", "陽子") else "男")
            all_workers.append((w, employer))
        # job changes: a past employer (取消) that must never see the worker again
        for w, employer in all_workers[10:20]:
            past = subcontractors[(subcontractors.index(employer) + 3) % len(subcontractors)] if employer in subcontractors else first[0]
            session.add(Affiliation(worker_id=w.id, employer_id=past.id, status="取消", is_primary=False,
                                    started_on=datetime.date(2015, 4, 1), ended_on=datetime.date(2019, 3, 31)))
        session.flush()

        # --- site rosters (作業員名簿) -------------------------------------------------------------------------
        by_employer: dict[int, list[Worker]] = {}
        for w, employer in all_workers:
            by_employer.setdefault(employer.id, []).append(w)
        register_on_site(session, site_a, meguro, kikin, _trade(session, "10", "01"), "職長", "鉄筋工事", start)
        register_on_site(session, site_a, hiroo, kikin, _trade(session, "06", "02"), "職長", "土工", start)
        register_on_site(session, site_a, mirai, kikin1, None, "班長", "左官工事", start)
        named = {mirai.id, meguro.id, hiroo.id}
        for site in sites:
            for employer in tree[site.id]:
                staff = [w for w in by_employer.get(employer.id, []) if w.id not in named]
                for k, w in enumerate(staff[: max(1, int(len(staff) * 0.6))]):
                    trade = w.trades[0].trade if w.trades else None
                    register_on_site(session, site, w, employer, trade, "職長" if k == 0 else ("班長" if k == 1 else "一般"),
                                     (trade.major_name + "工事") if trade else "その他", start,
                                     hazardous=site.hazardous_substances and k % 3 == 0)
        session.commit()
        from portal.demo.histories import demo_events  # events and histories of the last two months

        demo_events(session, sites, today=today)

        logins: list[dict] = []
        if sm is not None:
            logins = create_logins(session, sm, employers=employers, sites=sites, tree=tree,
                                   workers=[mirai, meguro, hiroo] + [w for w, _e in all_workers[3:8]], site_a=site_a)
    return logins


def create_logins(session: Session, sm, *, employers, sites, tree, workers, site_a) -> list[dict]:
    def employer_sites(e: Employer) -> list[str]:
        return sorted(s.site_id for s in sites if e in tree[s.id])

    logins = []
    add_login(sm, ADMIN_LOGIN, DEMO_PASSWORD, ROLE_ADMIN, first_name="システム", last_name="管理者")
    logins.append({"role": "admin", "login": ADMIN_LOGIN, "password": DEMO_PASSWORD, "employer_id": None,
                   "worker_id": None, "site_ids": sorted(s.site_id for s in sites)})
    for e in employers:  # the 事業者ID doubles as the 事業者責任者's login
        add_login(sm, e.employer_id, DEMO_PASSWORD, ROLE_EMPLOYER, first_name=e.name, last_name="責任者", employer=e)
        primes_of = [s for s in sites if s.prime_employer_id == e.id]
        logins.append({"role": "prime" if primes_of else "employer", "login": e.employer_id, "password": DEMO_PASSWORD,
                       "employer_id": e.employer_id, "worker_id": None, "site_ids": employer_sites(e)})
    prime_a = next(e for e in employers if e.id == site_a.prime_employer_id)
    manager = add_login(sm, "genba-a", DEMO_PASSWORD, ROLE_SITE_MANAGER, first_name="A現場", last_name="管理者", employer=prime_a)
    session.add(SiteManagerAssignment(site_id=site_a.id, user_id=manager.id))
    session.commit()
    logins.append({"role": "site_manager", "login": "genba-a", "password": DEMO_PASSWORD,
                   "employer_id": prime_a.employer_id, "worker_id": None, "site_ids": [site_a.site_id]})
    for w in workers:  # the 技能者ID is the login; the demo's first password change is already done
        add_login(sm, w.worker_id, DEMO_PASSWORD, ROLE_WORKER, first_name=w.name.split()[0],
                  last_name=w.name.split()[-1], worker=w)
        # the card's 本人確認番号 (stored hashed); the demo's forced first password change counts as done
        security_code = passwords.issue_security_code(
            session, keys_from_config(current_app.config), w.id,
            code=f"{random.Random(w.worker_id).randrange(10_000):04d}", password_changed=True)
        session.commit()
        regs = session.execute(select(Site.site_id).join(SiteWorkerRegistration, SiteWorkerRegistration.site_id == Site.id)
                               .where(SiteWorkerRegistration.worker_id == w.id)).scalars().all()
        employer = next((a.employer for a in w.affiliations if a.status == "承認済"), None)
        logins.append({"role": "worker", "login": w.worker_id, "password": DEMO_PASSWORD,
                       "employer_id": employer.employer_id if employer else None, "worker_id": w.worker_id,
                       "site_ids": sorted(set(regs)), "security_code": security_code})
    return logins
