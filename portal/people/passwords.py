"""Passwords and the 本人確認番号 (the 4-digit security code on the back of the card). Plain functions, no Flask
routing (the screens are portal.views.accounts).

- Passwords are hashed by FAB's own mechanism (``reset_password`` → werkzeug scrypt); the minimum policy is
  portal.people.password_policy (FAB_PASSWORD_COMPLEXITY_VALIDATOR).
- The security code is stored as a keyed hash (HMAC with the credential key, per worker), so a database dump
  alone does not reveal it even though 4 digits are few; it is never a column of a generic screen or API.
- A worker's first login forces a password change confirmed with the security code (domain.md §12.10). Five
  wrong codes in a row lock the code for 30 minutes (4 digits must not be guessable online).
- The reset path (ID + security code + new password) answers a wrong ID, a wrong code, a locked account and an
  employer's ID with the same message, after the same hash work, so it does not reveal whether an ID exists.
"""
from __future__ import annotations

import datetime
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from portal.people import password_policy
from portal.devices.credentials import CredentialKeys
from portal.app.errors import DomainError
from portal.models import PortalUser
from portal.models.accounts import WorkerAccount
from portal.people.scoping import ALL, using_scope

MAX_FAILURES = 5
LOCK = datetime.timedelta(minutes=30)
RESET_FAILED = "ログインIDまたは本人確認番号が正しくないか、現在この方法では再設定できません。"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _aware(value: datetime.datetime | None) -> datetime.datetime | None:
    # SQLite returns naive datetimes for timezone-aware columns: they were stored in UTC
    return value.replace(tzinfo=datetime.timezone.utc) if value is not None and value.tzinfo is None else value


def code_hash(keys: CredentialKeys, worker_id: int, code: str) -> str:
    return keys.lookup_hash("security-code", f"{worker_id}:{str(code).strip()}")


def check_policy(password: str) -> None:
    try:
        password_policy.validate(password)
    except Exception as e:  # PasswordComplexityValidationError
        raise DomainError("weak_password", str(e)) from e


def issue_security_code(session: Session, keys: CredentialKeys, worker_id: int, code: str | None = None,
                        password_changed: bool = False) -> str:
    """Set the card's 本人確認番号 for a worker (a new card); returns the code to print. ``password_changed``:
    the initial password has already been changed (the demo's logins)."""
    code = code if code is not None else f"{secrets.randbelow(10_000):04d}"
    if not (len(code) == 4 and code.isascii() and code.isdigit()):
        raise DomainError("invalid_security_code", "本人確認番号は4桁の数字です。")
    with using_scope(session, ALL):
        account = session.execute(select(WorkerAccount).where(WorkerAccount.worker_id == worker_id)).scalar_one_or_none()
        if account is None:
            account = WorkerAccount(worker_id=worker_id, security_code_hash="")
            session.add(account)
        account.security_code_hash = code_hash(keys, worker_id, code)
        account.password_changed_at = _now() if password_changed else None
        account.failed_attempts, account.locked_until = 0, None
        session.flush()
    return code


def must_change_password(session: Session, worker_id: int | None) -> bool:
    """Has this worker's login still its initial password? (A worker without an account row — created before
    cards carried codes — is not forced: there is no code to confirm with.)"""
    if worker_id is None:
        return False
    t = WorkerAccount.__table__
    row = session.execute(select(t.c.id, t.c.password_changed_at).where(t.c.worker_id == worker_id)).first()
    return row is not None and row.password_changed_at is None


def verify_security_code(session: Session, keys: CredentialKeys, worker_id: int, code: str,
                         now: datetime.datetime | None = None) -> bool:
    """Check the code, counting failures; False while locked. Commits the counter (a rollback must not undo it)."""
    now = now or _now()
    with using_scope(session, ALL):
        account = session.execute(select(WorkerAccount).where(WorkerAccount.worker_id == worker_id)).scalar_one_or_none()
        if account is None:
            return False
        if account.locked_until is not None and _aware(account.locked_until) > now:
            return False
        ok = hmac.compare_digest(account.security_code_hash, code_hash(keys, worker_id, code or ""))
        if ok:
            account.failed_attempts, account.locked_until = 0, None
        else:
            account.failed_attempts = (account.failed_attempts or 0) + 1
            if account.failed_attempts >= MAX_FAILURES:
                account.locked_until, account.failed_attempts = now + LOCK, 0
        session.commit()
    return ok


def _mark_changed(session: Session, worker_id: int) -> None:
    with using_scope(session, ALL):
        account = session.execute(select(WorkerAccount).where(WorkerAccount.worker_id == worker_id)).scalar_one()
        account.password_changed_at = _now()
        session.commit()


def change_initial_password(session: Session, sm, keys: CredentialKeys, user, current_password: str, code: str,
                            new_password: str, confirm: str) -> None:
    """The forced first change: the current (initial) password, the card's code, a new password twice."""
    if not user.worker_id or not must_change_password(session, user.worker_id):
        raise DomainError("not_required", "パスワードの初回変更は不要です。")
    if not check_password_hash(user.password or "", current_password or ""):
        raise DomainError("wrong_password", "現在のパスワードが正しくありません。")
    if new_password != confirm:
        raise DomainError("password_mismatch", "新しいパスワードが確認用と一致しません。")
    if new_password == current_password:
        raise DomainError("password_unchanged", "初期パスワードとは異なるパスワードにしてください。")
    check_policy(new_password)
    if not verify_security_code(session, keys, user.worker_id, code):
        raise DomainError("wrong_security_code", "本人確認番号が正しくないか、誤入力が続いたため一時的にロックされています。")
    sm.reset_password(user.id, new_password)  # FAB's hashing
    _mark_changed(session, user.worker_id)


def reset_with_security_code(session: Session, sm, keys: CredentialKeys, login_id: str, code: str,
                             new_password: str, confirm: str, fake_hash: str) -> None:
    """パスワードを忘れた場合: the 技能者ID, the card's code and a new password. Every failure answers
    :data:`RESET_FAILED` (policy and mismatch errors only concern what the person typed, not the ID)."""
    if new_password != confirm:
        raise DomainError("password_mismatch", "新しいパスワードが確認用と一致しません。")
    check_policy(new_password)
    check_password_hash(fake_hash, "password")  # the same hash work whether the ID exists or not
    with using_scope(session, ALL):
        user = session.execute(select(PortalUser).where(PortalUser.username == (login_id or "").strip())).scalar_one_or_none()
    if user is None or not user.worker_id or not user.active:
        raise DomainError("reset_failed", RESET_FAILED, 400)
    if not verify_security_code(session, keys, user.worker_id, code):
        raise DomainError("reset_failed", RESET_FAILED, 400)
    sm.reset_password(user.id, new_password)
    _mark_changed(session, user.worker_id)
