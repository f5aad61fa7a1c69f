"""End to end on sample_projects/jwt_api: the API rules (H5xx) after
`hardener --apply-all --unsafe-fixes` (the CORS, rate-limit and JWT fixes are
"review").

The patched app runs in a subprocess (its package name must not clash with
other samples): a probe script drives it with Flask's test client, not in
testing mode, so the rate limit applies, and over https so that no HTTPS
redirect gets in the way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from conftest import run_hardener
from tests.e2e.conftest import run_sample_tests

SAMPLE = "jwt_api"
FLAGS = ("--unsafe-fixes",)
EVIL = "https://evil.example"

PROBE = r'''
import json, sys, time
import jwt as pyjwt
sys.path.insert(0, ".")
from jwtapi import create_app

allowed = sys.argv[1]
app = create_app()
client = app.test_client()
base = "https://localhost"
out = {}

for name, origin in (("evil", "https://evil.example"), ("allowed", allowed)):
    r = client.get("/api/notes", headers={"Origin": origin}, base_url=base)
    out["cors_" + name] = [r.headers.get("Access-Control-Allow-Origin"), r.headers.get("Access-Control-Allow-Credentials")]
    r = client.options("/login", base_url=base, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Content-Type"})
    out["preflight_" + name] = r.headers.get("Access-Control-Allow-Origin")

r = client.post("/login", json={"username": "root", "password": "root-password"}, base_url=base)
token = r.get_json()["access_token"]
claims = pyjwt.decode(token, options={"verify_signature": False})
out["login_exp"] = "exp" in claims
auth = lambda t: {"Authorization": "Bearer " + t}
out["admin_real"] = client.get("/api/admin/stats", headers=auth(token), base_url=base).status_code
out["notes_real"] = client.get("/api/notes", headers=auth(token), base_url=base).status_code

now = int(time.time())
unsigned = pyjwt.encode({"sub": "root", "role": "admin", "type": "access", "iat": now, "nbf": now}, None, algorithm="none")
expired = pyjwt.encode({"sub": "root", "role": "admin", "type": "access", "fresh": False, "jti": "x",
                        "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600},
                       app.config["JWT_SECRET_KEY"], algorithm="HS256")
for name, t in (("unsigned", unsigned), ("expired", expired)):
    out["admin_" + name] = client.get("/api/admin/stats", headers=auth(t), base_url=base).status_code
    out["notes_" + name] = client.get("/api/notes", headers=auth(t), base_url=base).status_code

# a password-guessing run: one login was used above, so start from a fresh app
app = create_app()
client = app.test_client()
out["guesses"] = [client.post("/login", json={"username": "alice", "password": "guess%d" % i}, base_url=base).status_code
                  for i in range(6)]
# another client address still gets in
out["other_client"] = client.post("/login", json={"username": "alice", "password": "alice-password"}, base_url=base,
                                  environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code
print(json.dumps(out))
'''


def probe(root: Path, allowed: str) -> dict:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for key in ("JWT_SECRET_KEY", "CORS_ORIGINS", "SECRET_KEY", "RATELIMIT_STORAGE_URI", "FLASK_DEBUG"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, "-c", PROBE, allowed], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def patched(hardened):
    return hardened(SAMPLE, *FLAGS)


@pytest.fixture(scope="module")
def allowed_origin(patched) -> str:
    origins = dotenv_values(patched.root / ".env").get("CORS_ORIGINS") or ""
    assert origins, "hardener did not write CORS_ORIGINS to .env"
    return origins.split(",")[0].strip()


@pytest.fixture(scope="module")
def before(patched, allowed_origin):
    return probe(patched.original, allowed_origin)


@pytest.fixture(scope="module")
def after(patched, allowed_origin):
    return probe(patched.root, allowed_origin)


def test_the_exploits_work_before(before):
    # any origin is granted, with credentials
    assert before["cors_evil"] == [EVIL, "true"]
    assert before["preflight_evil"] == EVIL
    # unlimited guessing
    assert before["guesses"] == [401] * 6
    # forged and expired admin tokens open the admin endpoint; tokens never expire
    assert before["admin_unsigned"] == 200
    assert before["admin_expired"] == 200
    assert before["login_exp"] is False


def test_cors_grants_only_the_allowlist(after, allowed_origin):
    assert after["cors_evil"] == [None, None]
    assert after["preflight_evil"] is None
    assert after["cors_allowed"] == [allowed_origin, "true"]
    assert after["preflight_allowed"] == allowed_origin


def test_the_sixth_rapid_login_gets_429(after):
    assert after["guesses"] == [401] * 5 + [429]
    assert after["other_client"] == 200


def test_unsigned_and_expired_tokens_are_refused(after):
    assert after["admin_real"] == 200 and after["notes_real"] == 200
    assert after["admin_unsigned"] == 401
    assert after["admin_expired"] == 401
    assert after["notes_unsigned"] in (401, 422)
    assert after["notes_expired"] == 401
    assert after["login_exp"] is True


def test_the_api_tests_still_pass(patched):
    proc = run_sample_tests(patched.root)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_second_run_changes_nothing(patched):
    assert patched.after_first == patched.after_second
    assert "Applied 0 fixes" in patched.second.stdout or "No fixes" in patched.second.stdout, patched.second.stdout


def test_what_is_left_is_report_only(patched):
    proc = run_hardener(patched.root, "--format", "json", "--select", "H5,H102")
    report = json.loads(proc.stdout)
    left = sorted(f["code"] for f in report["findings"])
    assert left == ["H541", "H542"], left
    assert all(f["fix"] is None for f in report["findings"])
