"""The provider's signature on each webhook request: a leaked URL (device key included) must not be enough to
record a call. Twilio's scheme first, the de-facto standard (SignalWire and others sign the same way):
``X-Twilio-Signature`` = base64(HMAC-SHA1(auth token, URL + each POST field name and value, sorted by name)).

The auth token is the phone device's setting ``auth_token`` (checked by the device type's settings schema). The
URL is the one the provider called: ``webhook_url`` when the portal sits behind a proxy that changes it,
else the request's own; like Twilio's own validator we accept it with and without the default port.
A device whose setting ``signature`` is ``none`` (a provider whose scheme is not supported yet) is trusted on
its key alone, as before; every other phone device refuses unsigned and forged requests before anything is stored.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit

from portal.devices import DomainError

HEADER = "X-Twilio-Signature"
DEFAULT_PORTS = {"http": 80, "https": 443}


def compute(token: str, url: str, form) -> str:
    """Twilio's signature of a form-encoded request (``form``: a MultiDict or a plain dict)."""
    text = url
    for name in sorted(set(form)):
        values = form.getlist(name) if hasattr(form, "getlist") else [form[name]]
        for value in sorted(set(values)):
            text += name + value
    return base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()).decode()


def url_variants(url: str) -> list[str]:
    """The URL with and without its scheme's default port (providers are not consistent about it)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    found = [urlunsplit(parts._replace(netloc=host)) if parts.port in (None, DEFAULT_PORTS.get(parts.scheme)) else url]
    if port is not None:
        found.append(urlunsplit(parts._replace(netloc=f"{host}:{port}")))
    return found


def verify(settings: dict | None, url: str, form, signature: str | None) -> None:
    """Refuse the request (DomainError, 403) unless it carries the provider's valid signature."""
    settings = settings or {}
    if settings.get("signature") == "none":
        return
    token = settings.get("auth_token")
    if not isinstance(token, str) or not token:
        raise DomainError("signature_not_configured", "この電話機器には署名検証用のAuth Tokenが設定されていません。"
                                                     "機器の設定で auth_token を設定してください。", 403)
    if not signature:
        raise DomainError("missing_signature", "電話事業者の署名（X-Twilio-Signature）がありません。", 403)
    base = settings.get("webhook_url") or url
    if "?" not in base and "?" in url:
        base += url[url.index("?"):]
    if not any(hmac.compare_digest(compute(token, u, form), signature) for u in url_variants(base)):
        raise DomainError("invalid_signature", "電話事業者の署名が正しくありません。", 403)
