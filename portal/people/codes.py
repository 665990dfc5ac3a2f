"""Code tables: seeding from the shipped partial lists and importing the official full lists from CSV.

Import is an upsert keyed on the code: existing rows are updated, none are deleted (histories refer to them).
A malformed row stops the import before anything is written, with the row number in a Japanese message.
"""
from __future__ import annotations

import csv
import io
import re
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.app.errors import DomainError
from portal.models import Qualification, Trade

_TWO = re.compile(r"^\d{2}$")
_FIVE = re.compile(r"^\d{5}$")


def _evaluation_field(flag: str) -> str | None:
    # "Y(鉄筋)" → "鉄筋"; "N(as of 2023)" / "?" → None
    m = re.match(r"^Y\((.+)\)$", (flag or "").strip())
    return m.group(1) if m else None


def parse_trades(text: str, *, skip_incomplete: bool = False) -> list[dict]:
    rows = []
    for n, row in enumerate(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))), start=2):
        major, minor = (row.get("major_code") or "").strip(), (row.get("minor_code") or "").strip()
        if not major or not minor:
            if skip_incomplete:
                continue
            raise DomainError("invalid_trade_row", f"{n}行目: 大分類コードと小分類コードは必須です。")
        if not (_TWO.match(major) and _TWO.match(minor)):
            raise DomainError("invalid_trade_code", f"{n}行目: 職種コードは2桁の数字です（{major}-{minor}）。")
        if not (row.get("major_name") or "").strip() or not (row.get("minor_name") or "").strip():
            raise DomainError("invalid_trade_row", f"{n}行目: 大分類名と小分類名は必須です。")
        rows.append({"major_code": major, "minor_code": minor, "major_name": row["major_name"].strip(),
                     "minor_name": row["minor_name"].strip(), "evaluation_field": _evaluation_field(row.get("evaluable", ""))})
    return rows


def parse_qualifications(text: str) -> list[dict]:
    rows = []
    for n, row in enumerate(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))), start=2):
        code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
        if not _FIVE.match(code) or not name:
            raise DomainError("invalid_qualification_row", f"{n}行目: 資格コードは5桁の数字、資格名は必須です（{code}）。")
        rows.append({"code": code, "name": name, "category": (row.get("category") or "").strip() or None})
    return rows


def upsert_trades(session: Session, rows: list[dict]) -> int:
    existing = {(t.major_code, t.minor_code): t for t in session.execute(select(Trade)).scalars()}
    for r in rows:
        t = existing.get((r["major_code"], r["minor_code"]))
        if t is None:
            session.add(Trade(**r))
        else:
            for k, v in r.items():
                setattr(t, k, v)
    session.flush()
    return len(rows)


def upsert_qualifications(session: Session, rows: list[dict]) -> int:
    existing = {q.code: q for q in session.execute(select(Qualification)).scalars()}
    for r in rows:
        q = existing.get(r["code"])
        if q is None:
            session.add(Qualification(**r))
        else:
            for k, v in r.items():
                if v is not None:
                    setattr(q, k, v)
    session.flush()
    return len(rows)


def seed(session: Session) -> None:
    """Load the shipped partial lists (only complete rows)."""
    data = resources.files("portal") / "data"
    upsert_trades(session, parse_trades((data / "trades.csv").read_text(encoding="utf-8"), skip_incomplete=True))
    upsert_qualifications(session, parse_qualifications((data / "qualifications.csv").read_text(encoding="utf-8")))
