"""No input to any screen gives a 500 (issue 15), per role: a crawl from the home page follows every link the
role is shown, then sends hostile values to what it found: every field of every form (GET and POST), every
query parameter of every link, every id in a link's path, and every list's filters, sort columns and paging
(FAB builds its filter links in JavaScript, so they are made here from the views' own search filters).
Refusals are pages in Japanese; every answer carries the security headers; and no exception of the portal's
own code reaches the last safety net (even where that net answers with a Japanese 400). Roles: the worker, the
prime's site manager, the prime (元請), an employer and the administrator, over one demo copy. Bounded: at most
MAX_PAGES pages per role, PER_SHAPE of those that differ only in their ids, and each list's filters probed by the
first role that reaches the list."""
from __future__ import annotations

import collections
import logging
import re
import time
import traceback
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask_appbuilder import ModelView

from portal.demo.testing import demo_copy, login, login_of

MAX_PAGES = 40
PER_SHAPE = 2  # pages that differ only in their ids (/worker/310/20, /worker/310/30 …): the first two
HOSTILE = ["\x00", "9" * 30, "-1", "2026-13-45", '"><script>x</script>٣٠١٥', "a" * 3000]
FEW = ["\x00x", "9" * 30]  # for the many list filters
SKIP = ("/logout", "/lang/", "/static/", "/swagger", "/api/", "delete", "/download")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


class Page(HTMLParser):
    """The links and forms of one page, as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                               "fields": {}, "free": []})
        elif self.forms and tag in ("input", "textarea", "select") and a.get("name"):
            form, kind = self.forms[-1], (a.get("type") or tag).lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                form["fields"].setdefault(a["name"], None)
                return
            form["fields"][a["name"]] = a.get("value") or ""
            if kind != "hidden":
                form["free"].append(a["name"])
            if tag == "select":
                self._select = a["name"]
        elif tag == "option" and self._select and self.forms:
            fields = self.forms[-1]["fields"]
            if not fields.get(self._select):
                fields[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _local(base: str, href: str) -> str | None:
    parts = urlsplit(href)
    if parts.netloc == "localhost":  # a redirect's absolute Location
        parts = parts._replace(scheme="", netloc="")
    if parts.scheme or parts.netloc or href.startswith(("#", "javascript:", "mailto:")):
        return None
    path = parts.path if parts.path.startswith("/") else base.rsplit("/", 1)[0] + "/" + parts.path
    if any(s in path for s in SKIP):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def _shape(url: str) -> str:
    parts = urlsplit(url)
    return re.sub(r"\d+", "#", parts.path) + "?" + "&".join(sorted(k for k, _ in parse_qsl(parts.query)))


def _column_type(view, column: str) -> str:
    found = view.datamodel.list_columns.get(column)
    return type(getattr(found, "type", found)).__qualname__


def _list_probes(app, crawled: set[str], done: set[str], kinds: set[tuple[str, str]]) -> list[str]:
    """Every list filter of every FAB list screen the role reached, with hostile values; its sort columns and
    its paging. A list another role's crawl probed already (``done``) is left out: the filters are the view's,
    the same for every role, and they are most of the requests."""
    urls = []
    for view in app.appbuilder.baseviews:
        if not isinstance(view, ModelView) or f"{view.route_base}/list/" not in crawled or view.route_base in done:
            continue
        done.add(view.route_base)
        name, base = view.__class__.__name__, f"{view.route_base}/list/"
        for column, filters in view._filters.get_search_filters().items():
            for index, flt in enumerate(filters):
                # a filter class over a column type answers alike on every list: probe each pair once (the
                # filters were most of the crawl's requests, and of its time)
                if (kind := (type(flt).__qualname__, _column_type(view, column))) in kinds:
                    continue
                kinds.add(kind)
                urls += [f"{base}?{urlencode({f'_flt_{index}_{column}': v})}" for v in FEW]
        urls += [f"{base}?_oc_{name}={c}&_od_{name}=asc" for c in [*view.order_columns, "id", "nosuch"]]
        urls += [f"{base}?{urlencode({f'page_{name}': v, f'psize_{name}': v})}" for v in FEW + ["-1"]]
    return urls


def _mutations(url: str) -> list[str]:
    """A link with each query value and each numeric path segment replaced by hostile values."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    out = []
    for i, (key, _value) in enumerate(query):
        for v in HOSTILE[:4]:
            out.append(f"{parts.path}?{urlencode(query[:i] + [(key, v)] + query[i + 1:])}")
        out.append(f"{parts.path}?{urlencode(query[:i])}&{key}=%FF%FE%ED%A0%80")  # bytes that are not UTF-8
    segments = parts.path.split("/")
    for i, segment in enumerate(segments):
        if segment.isdigit():
            out += ["/".join(segments[:i] + [v] + segments[i + 1:]) for v in ("2147483648", "abc")]
    return out


def _submissions(page_url: str, form: dict) -> list[tuple[str, str, dict]]:
    action = _local(page_url, form["action"]) if form["action"] else page_url.split("?")[0]
    if action is None:
        return []
    base = {k: v for k, v in form["fields"].items() if v is not None}
    out = [(form["method"], action, {**base, **{k: value for k in form["free"]}}) for value in HOSTILE]
    out.append((form["method"], action, {k: "\x00" for k in form["fields"]}))  # hidden fields too
    return out


class Crashes(logging.Handler):
    """Exceptions raised in the portal's own code that only the last safety net answered (portal.app.errors: a
    generic 400 for a value a converter refused, else a 500): a crash, even when its answer is a Japanese page.
    (A value FAB's or the database's code refuses is that net's job.)"""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record):
        if record.exc_info and record.exc_info[2] is not None:
            last = traceback.extract_tb(record.exc_info[2])[-1]
            if last.filename.startswith(REPO) and "/site-packages/" not in last.filename:
                where = f"{last.filename.removeprefix(REPO)}:{last.lineno}"
                self.found.append(f"{record.getMessage()}: {record.exc_info[0].__name__} at {where}")


REPO = str(Path(__file__).resolve().parent.parent) + "/"


def _problem(r, what: str) -> str | None:
    h = r.headers
    if "frame-ancestors 'none'" not in h.get("Content-Security-Policy", "") or h.get("X-Frame-Options") != "DENY" \
            or h.get("X-Content-Type-Options") != "nosniff" or not h.get("Referrer-Policy"):
        return f"{what} → {r.status_code} without the security headers"
    if r.status_code >= 500:
        return f"{what} → {r.status_code}"
    if r.status_code in (400, 403, 404, 405, 413) and "text/html" in r.content_type:
        if not JAPANESE.search(r.get_data(as_text=True)):
            return f"{what} → {r.status_code} without a Japanese message"
    return None


# The worker first and the administrator last: a role's crawl may change what the later ones see (the
# administrator's reaches the logins and roles), never what the earlier ones saw.
ROLES = ["worker", "site_manager", "prime", "employer", "admin"]


@pytest.fixture(scope="module")
def crawled_app(tmp_path_factory):
    """One copy of the demo for every role (building an app costs seconds), as in production: a fault is a 500."""
    with demo_copy(tmp_path_factory.mktemp("crawl"), tmp_path_factory, PROPAGATE_EXCEPTIONS=False) as app:
        app.list_probed = set()  # route bases of the lists whose filters a role's crawl has probed
        app.filters_probed = set()  # (filter class, column type) pairs probed on some list
        app.crashes = Crashes()
        app.logger.addHandler(app.crashes)
        yield app
        app.logger.removeHandler(app.crashes)


def _log_in(app, client, entry) -> None:
    """Log in again after a probe ended the session; a probe that changed the password is undone first."""
    if "/login" not in login(client, entry["login"], entry["password"]).request.path:
        return
    from portal.app.db import db

    with app.app_context():
        sm = app.appbuilder.sm
        sm.reset_password(sm.find_user(username=entry["login"]).id, entry["password"])
        db.session.commit()
    assert "/login" not in login(client, entry["login"], entry["password"]).request.path, entry["login"]


@pytest.mark.parametrize("role", ROLES)
def test_no_hostile_input_to_any_screen_gives_a_server_error(crawled_app, role):
    started = time.monotonic()
    client = crawled_app.test_client()
    entry = login_of(crawled_app, role)
    _log_in(crawled_app, client, entry)
    crashes = crawled_app.crashes
    crashes.found.clear()
    seen, queue, pages, problems, sent, shapes = set(), ["/"], [], [], 0, collections.Counter()
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen or shapes[_shape(url)] >= PER_SHAPE:
            continue
        seen.add(url)
        shapes[_shape(url)] += 1
        r = client.get(url)
        sent += 1
        if (p := _problem(r, f"GET {url}")) is not None:
            problems.append(p)
        if r.status_code in (301, 302, 303) and (target := _local(url, r.headers["Location"])):
            queue.append(target)
        if r.status_code != 200 or "text/html" not in r.content_type:
            continue
        page = Page()
        page.feed(r.get_data(as_text=True))
        pages.append((url, page))
        queue += [u for u in (_local(url, h) for h in page.links) if u and u not in seen]
    assert len(pages) >= 8, [u for u, _ in pages]  # the crawl reached the role's screens
    probes = [("get", u, None) for u, _ in pages for u in _mutations(u)]
    probes += [s for u, page in pages for form in page.forms for s in _submissions(u, form)]
    reached = {u.split("?")[0] for u, _ in pages}
    probes += [("get", u, None)
               for u in _list_probes(crawled_app, reached, crawled_app.list_probed, crawled_app.filters_probed)]
    for method, url, data in dict.fromkeys((m, u, tuple(sorted((d or {}).items()))) for m, u, d in probes):
        if method == "get" and data:
            url = f"{url.split('?')[0]}?{urlencode(data)}"
        r = client.open(url, method=method.upper(), data=dict(data) if method == "post" else None)
        sent += 1
        if (p := _problem(r, f"{method.upper()} {url} {dict(data) if data else ''}"[:300])) is not None:
            problems.append(p)
        if r.status_code in (301, 302, 303) and "/login" in r.headers.get("Location", ""):
            _log_in(crawled_app, client, entry)  # a probe that ended the session
    assert sent > 80, sent  # the probes ran (the worker, with the fewest screens, sends about a hundred)
    print(f"{role}: {len(pages)} pages, {sent} requests, {time.monotonic() - started:.0f} s")
    assert problems + crashes.found == [], "\n".join((problems + sorted(set(crashes.found)))[:30])
