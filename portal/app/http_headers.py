"""Security headers on every answer (screens, APIs, device routes, plugin pages).

The Content-Security-Policy keeps what FAB's pages and the plugins' kiosk pages need: their inline scripts,
styles and event handlers ('unsafe-inline': FAB's templates carry no nonce on most of them), images drawn as
data:/blob: URLs (QR codes, camera frames), everything else from the portal itself only. What it closes: framing
by any other site (frame-ancestors 'none' and X-Frame-Options DENY: the approval screens cannot be clickjacked),
plugins and <base> tricks, forms posting elsewhere, and loading scripts from other hosts. HSTS only over HTTPS
(request.is_secure, which honours X-Forwarded-Proto from the configured trusted proxies): over plain HTTP it
means nothing and a developer's localhost must keep working. CCUS_CONTENT_SECURITY_POLICY replaces the policy.
"""
from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def install(app) -> None:
    from flask import request

    policy = app.config.get("CCUS_CONTENT_SECURITY_POLICY") or CONTENT_SECURITY_POLICY

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
