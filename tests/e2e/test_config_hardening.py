"""End to end on sample_projects/notes_app and shop_factory: CSRF (H201),
security headers and CSP (H211) and cookie flags (H221) after
`hardener --apply-all`.

Each patched app is driven in a subprocess (the two samples' module names
clash) by a probe script that uses Flask's test client with real requests and
prints what it saw as JSON. The same probe runs on the untouched copy, so the
app's own flows can be compared before and after the patch.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import run_sample_tests

COMMON = r'''
import io, json, os, re, sys, tempfile
sys.path.insert(0, ".")
BASE = sys.argv[1]
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
out = {"pages": {}, "responses": [], "attack": {}, "flow": {}}
HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
           "Strict-Transport-Security", "Location")


def record(r, method, path):
    out["responses"].append({"method": method, "path": path, "status": r.status_code,
                             "headers": {h: r.headers.get(h) for h in HEADERS},
                             "cookies": r.headers.getlist("Set-Cookie")})
    if method == "GET" and r.status_code == 200 and r.mimetype == "text/html":
        out["pages"][path] = [r.get_data(as_text=True), r.headers.get("Content-Security-Policy")]
    return r


def get(c, path):
    return record(c.get(path, base_url=BASE), "GET", path)


def post(c, path, data=None, referer="https://evil.example/", **kw):
    # browsers send a Referer (Flask-WTF checks it over HTTPS); a forged post comes from another site
    headers = dict(kw.pop("headers", {}), Referer=referer)
    return record(c.post(path, base_url=BASE, data=data or {}, headers=headers, **kw), "POST", path)


def post_form(c, form_url, data, post_url=None, **kw):
    """Like a browser: load the page, send the form's hidden token if it has one."""
    page = get(c, form_url).get_data(as_text=True)
    m = TOKEN.search(page)
    if m:
        data = dict(data, csrf_token=m.group(1))
    return post(c, post_url or form_url, data, referer=BASE + form_url, **kw)
'''

NOTES_PROBE = COMMON + r'''
import app as notes
app = notes.app
tmp = tempfile.mkdtemp()
app.config.update(DATABASE=os.path.join(tmp, "notes.db"), UPLOAD_FOLDER=os.path.join(tmp, "uploads"))
with app.app_context():
    notes.init_db()


def client(logged_in=False):
    c = app.test_client()
    if logged_in:
        r = post_form(c, "/login", {"username": "alice", "password": "alice-password"})
        assert r.status_code == 302, r.status_code
    return c

# 1. posts without a token, as another site would send them
out["attack"]["login"] = post(client(), "/login", {"username": "alice", "password": "alice-password"}).status_code
out["attack"]["register"] = post(client(), "/register", {"username": "mallory", "password": "x"}).status_code
out["attack"]["notes"] = post(client(True), "/notes", {"title": "forged", "body": "x"}).status_code
out["attack"]["upload"] = post(client(True), "/upload", {"file": (io.BytesIO(b"x"), "evil.txt")},
                               content_type="multipart/form-data").status_code
out["attack"]["logout"] = post(client(True), "/logout").status_code
out["attack"]["delete"] = post(client(True), "/notes/2/delete").status_code

# 2. the app's own flows, with the token the pages give, on fresh data
with app.app_context():
    notes.init_db()
c = app.test_client()
get(c, "/")
r = post_form(c, "/login", {"username": "alice", "password": "alice-password"})
out["flow"]["login"] = [r.status_code, r.headers.get("Location", "").rsplit("/", 1)[-1]]
out["flow"]["login_cookie"] = r.headers.getlist("Set-Cookie")
r = post_form(c, "/notes", {"title": "Shopping", "body": "apples"})
page = get(c, "/notes").get_data(as_text=True)
out["flow"]["create"] = [r.status_code, "Shopping" in page and "apples" in page]
r = post_form(c, "/upload", {"file": (io.BytesIO(b"hello"), "report.txt")}, content_type="multipart/form-data")
out["flow"]["upload"] = [r.status_code, "Saved report.txt" in r.get_data(as_text=True),
                         open(os.path.join(tmp, "uploads", "report.txt"), "rb").read().decode()]
meta = META.search(page)
r = post(c, "/notes/1/delete", headers={"X-CSRFToken": meta.group(1)} if meta else {}, referer=BASE + "/notes")
out["flow"]["delete"] = [r.status_code, r.get_json(), "Groceries" in get(c, "/notes").get_data(as_text=True)]
get(c, "/notes/2")
get(c, "/search?q=e")
out["flow"]["search"] = re.findall(r"<li>(.*?)</li>", out["pages"]["/search?q=e"][0])
r = post_form(c, "/notes", {}, post_url="/logout")
out["flow"]["logout"] = [r.status_code, get(c, "/notes").status_code]
c = app.test_client()
r = post_form(c, "/register", {"username": "carol", "password": "carol-pass"})
out["flow"]["register"] = r.status_code
out["flow"]["register_login"] = post_form(c, "/login", {"username": "carol", "password": "carol-pass"}).status_code
get(c, "/upload")
get(app.test_client(), "/register")
print(json.dumps(out))
'''

SHOP_PROBE = COMMON + r'''
from shop import create_app
from shop.extensions import db
from shop.models import Product, User
tmp = tempfile.mkdtemp()
app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shop.db"})


def seed():
  with app.app_context():
    db.drop_all()
    db.create_all()
    db.session.add_all([Product(name="Kettle", price=2500), Product(name="Teapot", price=1800),
                        Product(name="Tea cups", price=900)])
    user = User(email="ann@example.com")
    user.set_password("ann-password")
    db.session.add(user)
    db.session.commit()


seed()


def client(logged_in=False):
    c = app.test_client()
    if logged_in:
        r = post_form(c, "/auth/login", {"email": "ann@example.com", "password": "ann-password"})
        assert r.status_code == 302, r.status_code
    return c

out["attack"]["login"] = post(client(), "/auth/login", {"email": "ann@example.com", "password": "ann-password"}).status_code
out["attack"]["register"] = post(client(), "/auth/register", {"email": "m@example.com", "password": "x"}).status_code
out["attack"]["cart"] = post(client(), "/cart", {"product_id": "2"}).status_code
out["attack"]["logout"] = post(client(True), "/auth/logout").status_code

seed()
c = app.test_client()
names = lambda r: re.findall(r'<span class="name">(.*?)</span>', r.get_data(as_text=True))
out["flow"]["products"] = names(get(c, "/"))
out["flow"]["search"] = names(get(c, "/search?q=Tea"))
r = post_form(c, "/", {"product_id": "2"}, post_url="/cart")
post_form(c, "/", {"product_id": "3"}, post_url="/cart")
page = get(c, "/cart").get_data(as_text=True)
out["flow"]["cart"] = [r.status_code, re.findall(r"<li>(.*?)</li>", page), '<span id="total">2700</span>' in page]
r = post_form(c, "/auth/register", {"email": "bo@example.com", "password": "bo-password"})
out["flow"]["register"] = r.status_code
r = post_form(c, "/auth/login", {"email": "bo@example.com", "password": "bo-password"}, post_url="/auth/login?next=/cart")
out["flow"]["login"] = [r.status_code, r.headers.get("Location")]
out["flow"]["login_cookie"] = r.headers.getlist("Set-Cookie")
out["flow"]["logged_in"] = "Log out bo@example.com" in get(c, "/").get_data(as_text=True)
r = post_form(c, "/", {}, post_url="/auth/logout")
out["flow"]["logout"] = [r.status_code, "Log in" in get(c, "/").get_data(as_text=True)]
out["flow"]["api"] = get(c, "/api/products").get_json()
get(c, "/auth/login")
get(c, "/auth/register")
print(json.dumps(out))
'''

PROBES = {"notes_app": NOTES_PROBE, "shop_factory": SHOP_PROBE}


def probe(root: Path, sample: str, base: str, **env_extra: str) -> dict:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **env_extra)
    for key in ("SECRET_KEY", "FLASK_DEBUG", "DATABASE_URL", "SQLALCHEMY_DATABASE_URI"):
        env.pop(key, None)
    if "FORCE_HTTPS" not in env_extra:
        env.pop("FORCE_HTTPS", None)
    env.update(env_extra)
    proc = subprocess.run([sys.executable, "-c", PROBES[sample], base], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# the default fix (Flask-Talisman) and the after_request alternative, on both samples
CASES = [("notes_app", ()), ("shop_factory", ()),
         ("notes_app", ("--headers-fix", "after_request")), ("shop_factory", ("--headers-fix", "after_request"))]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: c[0] + ("-" + c[1][1] if c[1] else "-talisman"))
def sample(request, hardened):
    name, flags = request.param
    h = hardened(name, *flags)
    assert h.first.returncode in (0, 1), h.first.stderr
    dev = probe(h.root, name, "http://127.0.0.1")
    prod = probe(h.root, name, "https://localhost", FORCE_HTTPS="1")
    before = probe(h.original, name, "http://127.0.0.1")
    return name, h, before, dev, prod


# --------------------------------------------------------------------------- 1. posts without a token


def test_the_forged_posts_worked_before(sample):
    _, _, before, _, _ = sample
    assert all(status in (200, 302) for status in before["attack"].values()), before["attack"]


def test_posts_without_a_token_get_400(sample):
    _, _, _, dev, prod = sample
    for run in (dev, prod):
        assert run["attack"] and set(run["attack"].values()) == {400}, run["attack"]


# --------------------------------------------------------------------------- 2. the app's own flows


def test_the_apps_flows_give_the_same_results(sample):
    _, _, before, dev, prod = sample
    strip = lambda flow: {k: v for k, v in flow.items() if k != "login_cookie"}
    assert strip(dev["flow"]) == strip(before["flow"])
    assert strip(prod["flow"]) == strip(before["flow"])
    assert dev["flow"]["login"][0] == 302


def test_the_samples_own_tests_pass_on_the_patched_copy(sample):
    name, h, *_ = sample
    proc = run_sample_tests(h.root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


# --------------------------------------------------------------------------- 3. headers


def test_every_response_carries_the_security_headers(sample):
    _, _, _, dev, prod = sample
    for run in (dev, prod):
        assert run["responses"]
        for r in run["responses"]:
            h = r["headers"]
            assert h["Content-Security-Policy"], r
            assert h["X-Frame-Options"] == "DENY" or "frame-ancestors 'none'" in h["Content-Security-Policy"], r
            assert h["X-Content-Type-Options"] == "nosniff", r
            assert h["Referrer-Policy"], r


def test_hsts_over_https_in_production_only(sample):
    _, _, _, dev, prod = sample
    assert all(r["headers"]["Strict-Transport-Security"] for r in prod["responses"])
    assert "max-age=" in prod["responses"][0]["headers"]["Strict-Transport-Security"]
    assert not any(r["headers"]["Strict-Transport-Security"] for r in dev["responses"])


def test_production_redirects_plain_http_to_https(sample):
    name, h, *_ = sample
    script = ("import sys; sys.path.insert(0, '.')\n"
              + ("from app import app\n" if name == "notes_app" else "from shop import create_app\napp = create_app()\n")
              + "r = app.test_client().get('/auth/login' if 'shop' in sys.argv[1] else '/login', base_url='http://example.com')\n"
                "print(r.status_code, r.headers.get('Location'))\n")
    env = dict(os.environ, FORCE_HTTPS="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("FLASK_DEBUG", None)
    proc = subprocess.run([sys.executable, "-c", script, name], cwd=h.root, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    status, location = proc.stdout.split()
    assert status in ("301", "302") and location.startswith("https://example.com/")


# --------------------------------------------------------------------------- 4. cookies


def _session_cookie(cookies: list[str]) -> str:
    found = [c for c in cookies if c.startswith("session=")]
    assert found, cookies
    return found[-1]


def test_the_session_cookie_is_secure_httponly_samesite(sample):
    _, _, before, dev, prod = sample
    assert "Secure" not in _session_cookie(before["flow"]["login_cookie"])
    for run in (dev, prod):
        cookie = _session_cookie(run["flow"]["login_cookie"])
        flags = {p.strip().split("=")[0].lower(): p.strip() for p in cookie.split(";")[1:]}
        assert "secure" in flags and "httponly" in flags, cookie
        assert flags.get("samesite", "").lower() in ("samesite=lax", "samesite=strict"), cookie


# --------------------------------------------------------------------------- 5. the CSP allows what the pages load


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.loads: list[tuple[str, str]] = []  # (directive, url)
        self.inline: list[tuple[str, str | None]] = []  # (script|style, nonce)
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.loads.append(("script-src", a["src"]))
            else:
                self.inline.append(("script", a.get("nonce")))
        elif tag == "style":
            self.inline.append(("style", a.get("nonce")))
        elif tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower().split()
            if "stylesheet" in rel:
                self.loads.append(("style-src", a["href"]))
            elif "icon" in rel:
                self.loads.append(("img-src", a["href"]))
        elif tag == "img" and a.get("src"):
            self.loads.append(("img-src", a["src"]))


def _policy(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _allowed(policy: dict[str, list[str]], directive: str, url: str, page_origin: str) -> bool:
    sources = policy.get(directive, policy.get("default-src", []))
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return "'self'" in sources
    if parts.scheme == "data":
        return "data:" in sources
    origin = f"{parts.scheme or 'https'}://{parts.netloc}"
    return origin in sources or (origin == page_origin and "'self'" in sources)


def test_every_asset_is_allowed_by_the_pages_csp(sample):
    _, _, _, dev, prod = sample
    for run, origin in ((dev, "http://127.0.0.1"), (prod, "https://localhost")):
        assert len(run["pages"]) >= 4
        checked = 0
        for path, (html, csp) in run["pages"].items():
            policy = _policy(csp)
            page = _Page()
            page.feed(html)
            checked += len(page.loads) + len(page.inline)
            for directive, url in page.loads:
                assert _allowed(policy, directive, url, origin), (path, directive, url, policy.get(directive))
            for kind, nonce in page.inline:
                assert nonce, (path, kind)
                assert f"'nonce-{nonce}'" in policy[f"{kind}-src"], (path, kind)
        assert checked  # the samples load scripts, styles and images


def test_the_csp_lists_the_cdn_the_notes_app_uses(sample):
    name, _, _, dev, _ = sample
    if name != "notes_app":
        pytest.skip("notes_app loads Bootstrap from a CDN")
    policy = _policy(dev["responses"][0]["headers"]["Content-Security-Policy"])
    assert "https://cdn.jsdelivr.net" in policy["script-src"]
    assert "https://cdn.jsdelivr.net" in policy["style-src"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-inline'" not in policy["style-src"]


# --------------------------------------------------------------------------- 6. plain HTTP in development


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_flask_run_serves_plain_http_on_localhost_in_development(sample):
    name, h, *_ = sample
    port = _free_port()
    env = dict(os.environ, FLASK_DEBUG="1", PYTHONDONTWRITEBYTECODE="1",
               FLASK_APP="app" if name == "notes_app" else "shop:create_app", FLASK_RUN_FROM_CLI="true")
    env.pop("FORCE_HTTPS", None)
    env.pop("SECRET_KEY", None)
    server = subprocess.Popen([sys.executable, "-m", "flask", "run", "--no-reload", "--port", str(port)], cwd=h.root,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        path = "/login" if name == "notes_app" else "/auth/login"
        response = None
        for _ in range(100):  # up to ~10 s for the server to come up
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.1)
        assert response is not None, server.stdout.read().decode() if server.poll() is not None else "no answer"
        assert response.status == 200 and response.geturl().startswith("http://127.0.0.1")
        assert response.headers["Content-Security-Policy"]
        assert "csrf_token" in response.read().decode()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()


# --------------------------------------------------------------------------- 7. idempotent


def test_a_second_apply_all_changes_nothing(sample):
    _, h, *_ = sample
    assert h.after_first == h.after_second
    assert h.second.returncode in (0, 1), h.second.stderr
    assert not re.search(r"H2\d\d", h.second.stdout.split("Findings left")[0]), h.second.stdout


def test_the_patch_added_the_dependencies(sample):
    name, h, *_ = sample
    deps = (h.root / ("requirements.txt" if name == "notes_app" else "pyproject.toml")).read_text()
    assert "flask-wtf" in deps
    talisman = "--headers-fix" not in h.first.args
    assert ("flask-talisman" in deps) is talisman
    code = (h.root / ("app.py" if name == "notes_app" else "shop/__init__.py")).read_text()
    assert ("Talisman(" in code) is talisman and ("@app.after_request" in code) is not talisman
