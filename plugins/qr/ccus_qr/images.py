"""QR images with segno: inline SVG for screens (sharp at any size), PNG to print or download."""
from __future__ import annotations

import io

import segno


def svg(data: str) -> str:
    """An inline ``<svg>`` element with a viewBox and no fixed size: the page's CSS decides how large it is.
    Error correction M: survives a scratched screen or a glare spot."""
    return segno.make(data, error="m", micro=False).svg_inline(border=4, omitsize=True)


def png(data: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(data, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
