"""The minimum password policy (FAB_PASSWORD_COMPLEXITY_VALIDATOR): FAB calls it on every password form
(reset, own-password change, user creation) and portal.people.passwords on first login and reset. Import-light on
purpose: portal.app.config refers to it."""
from __future__ import annotations

from flask_appbuilder.exceptions import PasswordComplexityValidationError

MIN_LENGTH = 10


def validate(password: str) -> None:
    """At least 10 characters, with both letters and digits, not a single repeated character."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise PasswordComplexityValidationError(f"パスワードは{MIN_LENGTH}文字以上にしてください。")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise PasswordComplexityValidationError("パスワードには英字と数字の両方を含めてください。")
    if len(set(password)) < 4:
        raise PasswordComplexityValidationError("同じ文字の繰り返しが多すぎます。推測されにくいパスワードにしてください。")
