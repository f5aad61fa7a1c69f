"""H411 open-redirect beyond its examples: the helper's behaviour, reuse of an
existing helper, defaults, and idempotence."""

from __future__ import annotations

import pytest

from hardener_codemods.redirects import helper_source

from rewrite_helpers import findings, fix, fix_twice, project

RED = "from flask import Flask, redirect, request, url_for\napp = Flask(__name__)\n"


@pytest.fixture(scope="module")
def helper():
    ns = {}
    exec("from urllib.parse import urlsplit\n" + helper_source(), ns)
    return ns["safe_redirect_target"]


@pytest.mark.parametrize("target,expected", [
    ("/profile", "/profile"),
    ("/cart?item=2#top", "/cart?item=2#top"),
    ("https://evil.example", "/home"),
    ("//evil.example/x", "/home"),
    ("/\\evil.example", "/home"),
    ("\\\\evil.example", "/home"),
    ("javascript:alert(1)", "/home"),
    (" /profile", "/home"),
    ("/\t/evil.example", "/home"),
    ("http:/evil.example", "/home"),
    ("profile", "/home"),
    ("", "/home"),
    (None, "/home"),
])
def test_helper_allows_only_same_site_relative_urls(helper, target, expected):
    assert helper(target, "/home") == expected


def test_default_from_get_and_idempotent(tmp_path):
    root = project(tmp_path, RED + "@app.get('/go')\ndef go():\n"
                                   "    return redirect(request.args.get('to', url_for('index')))\n")
    texts = fix_twice(root, "H411")
    assert "redirect(safe_redirect_target(request.args.get('to', url_for('index')), url_for('index')))" in texts["app.py"]
    assert texts["app.py"].count("def safe_redirect_target") == 1


def test_fallback_with_local_names_is_not_copied(tmp_path):
    root = project(tmp_path, RED + "@app.post('/save/<int:i>')\ndef save(i):\n    nxt = request.form['next']\n"
                                   "    if nxt:\n        return redirect(nxt)\n    return redirect(url_for('item', id=i))\n")
    texts, left = fix(root, "H411")
    assert "return redirect(safe_redirect_target(nxt, \"/\"))" in texts["app.py"]
    assert left == []


def test_existing_helper_elsewhere_is_imported(tmp_path):
    root = project(tmp_path, {
        "web/__init__.py": "from flask import Flask\napp = Flask(__name__)\n",
        "web/util.py": "from urllib.parse import urlsplit\n\n\n" + helper_source(),
        "web/views.py": "from flask import redirect, request\nfrom web import app\n"
                        "@app.get('/x')\ndef x():\n    return redirect(request.values.get('u'))\n",
    })
    texts, left = fix(root, "H411")
    assert set(texts) == {"web/views.py"}
    assert "from web.util import safe_redirect_target" in texts["web/views.py"]


def test_two_blueprints_share_one_helper_module(tmp_path):
    bp = ("from flask import Blueprint, redirect, request\nbp = Blueprint('{n}', __name__)\n"
          "@bp.get('/{n}')\ndef view():\n    return redirect(request.args['next'])\n")
    root = project(tmp_path, {
        "app/__init__.py": "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n",
        "app/a.py": bp.format(n="a"),
        "app/b.py": bp.format(n="b"),
    })
    texts = fix_twice(root, "H411")
    assert set(texts) == {"app/a.py", "app/b.py", "app/safe_redirect.py"}
    for path in ("app/a.py", "app/b.py"):
        assert "from app.safe_redirect import safe_redirect_target" in texts[path]


def test_a_helper_in_another_package_is_not_imported(tmp_path):
    # two services of a monorepo: one may be deployed without the other
    bp = ("from flask import Blueprint, redirect, request\nbp = Blueprint('{n}', __name__)\n"
          "@bp.get('/{n}')\ndef view():\n    return redirect(request.args['next'])\n")
    root = project(tmp_path, {
        "one/__init__.py": "from flask import Flask\napp = Flask(__name__)\n",
        "one/safe_redirect.py": "from urllib.parse import urlsplit\n\n\n" + helper_source(),
        "one/views.py": bp.format(n="a"),
        "two/__init__.py": "",
        "two/views.py": bp.format(n="b"),
    })
    texts, left = fix(root, "H411")
    assert "from one.safe_redirect import safe_redirect_target" in texts["one/views.py"]
    assert "from two.safe_redirect import safe_redirect_target" in texts["two/views.py"]
    assert "two/safe_redirect.py" in texts and left == []


def test_redirect_of_session_or_constant_is_fine(tmp_path):
    root = project(tmp_path, RED + "@app.get('/a')\ndef a():\n    page = request.args.get('page', '1')\n"
                                   "    return redirect(url_for('list', page=page))\n")
    assert findings(root, "H411") == []


@pytest.mark.parametrize("target,reported", [
    ('f"/dataobj/{note_id}"', False),  # archivy: a fixed path on this site, then the value
    ('"/items/" + note_id', False),
    ('"/items/{}".format(note_id)', False),
    ('"/items/%s" % note_id', False),
    ('f"/{note_id}"', True),  # "//evil.example" is another host
    ('"/" + note_id', True),
    ('f"{note_id}/edit"', True),
    ("url_for('.search') + '?' + note_id", False),  # whoogle: this app's URL, the value in its query only
    ("f\"{url_for('.search')}#{note_id}\"", False),
    ("url_for('index') + note_id", True),  # "/" + "/evil.example"
    ("url_for('.search', _external=True) + '?' + note_id", False),
])
def test_a_fixed_same_site_path_before_the_value_keeps_the_redirect_on_the_site(tmp_path, target, reported):
    root = project(tmp_path, RED + "@app.post('/a')\ndef a():\n    note_id = request.form['id']\n"
                                   f"    return redirect({target})\n")
    assert bool(findings(root, "H411")) is reported


def test_a_value_passed_through_a_function_of_the_module_that_checks_the_host_is_safe(tmp_path):
    # airflow: origin = get_safe_url(request.values.get("origin")), get_safe_url in views.py
    root = project(tmp_path, RED + "from urllib.parse import urljoin, urlsplit\n\n\ndef get_safe_url(url):\n"
                                   "    target = urlsplit(urljoin(request.host_url, url))\n"
                                   "    if target.netloc != urlsplit(request.host_url).netloc:\n"
                                   "        return url_for('index')\n    return target.geturl()\n\n\n"
                                   "def shout(url):\n    return url.upper()\n\n\n"
                                   "@app.post('/a')\ndef a():\n    origin = get_safe_url(request.values.get('origin'))\n"
                                   "    return redirect(origin)\n\n\n"
                                   "@app.post('/b')\ndef b():\n    return redirect(shout(request.values.get('origin')))\n")
    assert [f.snippet for f in findings(root, "H411")] == ["redirect(shout(request.values.get('origin')))"]


def test_what_a_conditional_tests_does_not_flow_into_its_value(tmp_path):
    # buku: goto = (url_for('edit', id=rec_id) if rec_id else url_for('create', link=url)), rec_id from the request
    root = project(tmp_path, RED + "@app.get('/a')\ndef a():\n    url = request.args.get('url')\n"
                                   "    rec_id = lookup(url)\n"
                                   "    goto = url_for('edit', id=rec_id) if rec_id else url_for('create', link=url)\n"
                                   "    return redirect(goto)\n\n\n"
                                   "@app.get('/b')\ndef b():\n    url = request.args.get('url')\n"
                                   "    return redirect(url if url.startswith('/') else url_for('index'))\n")
    assert [f.line for f in findings(root, "H411")] == [14]


def test_the_projects_own_functions_and_inherited_methods_that_build_site_urls(tmp_path):
    # Flask-Admin: ModelView inherits get_url (url_for(endpoint, **kwargs)) from BaseView;
    # get_save_return_url returns get_redirect_target() (host checked) or self.get_url(...)
    files = {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "admin/__init__.py": "",
        "admin/helpers.py": "from urllib.parse import urlparse\nfrom flask import request\n\n\n"
                            "def get_redirect_target(param='url'):\n    target = request.values.get(param)\n"
                            "    if target and not urlparse(target).netloc:\n        return target\n    return None\n",
        "admin/base.py": "from flask import url_for\n\n\nclass BaseView:\n    def get_url(self, endpoint, **kwargs):\n"
                         "        return url_for(endpoint, **kwargs)\n\n\nclass MenuLink:\n    def get_url(self):\n"
                         "        return self.url\n",
        "admin/model.py": "from flask import redirect, request\nfrom admin.base import BaseView\n"
                          "from admin.helpers import get_redirect_target\n\n\nclass ModelView(BaseView):\n"
                          "    def get_save_return_url(self, model):\n"
                          "        return get_redirect_target() or self.get_url('.index_view')\n\n"
                          "    def edit_view(self):\n        return_url = request.args.get('url')\n"
                          "        if request.form.get('more'):\n"
                          "            return redirect(self.get_url('.edit_view', url=return_url))\n"
                          "        return redirect(self.get_save_return_url(request.args['id']))\n",
        # another object's get_url is not BaseView's
        "admin/links.py": "from flask import redirect, request\n\n\ndef go(link):\n"
                          "    return redirect(link.get_url(request.args['to']))\n",
    }
    root = project(tmp_path, files)
    assert [(f.path, f.line) for f in findings(root, "H411")] == [("admin/links.py", 5)]


def test_url_for_under_another_name_is_still_same_site(tmp_path):
    root = project(tmp_path, "from flask import Flask, redirect, request, url_for as _url_for\n"
                             "app = Flask(__name__)\n@app.get('/a')\ndef a():\n"
                             "    params = request.args.to_dict()\n    return redirect(_url_for('list', **params))\n"
                             "@app.get('/b')\ndef b():\n    return redirect(request.args['next'])\n")
    assert [f.snippet for f in findings(root, "H411")] == ["redirect(request.args['next'])"]


def test_what_a_module_says_by_itself_is_worked_out_once_per_content(tmp_path):
    # the rounds of --apply-all and a review's rescans scan again in the same
    # process: an unchanged module keeps its file, tree and memos; a changed one
    # gets new ones
    from hardener.config import Config
    from hardener.scanner import scan

    view = ("from flask import Flask, redirect, request\napp = Flask(__name__)\n\n"
            "@app.route('/go')\ndef go():\n    return redirect({})\n")
    (tmp_path / "app.py").write_text(view.format("request.args['next']"))
    (tmp_path / "other.py").write_text(view.replace("app = Flask", "other = Flask").replace("@app", "@other")
                                       .format("request.args['to']"))
    first = scan(tmp_path, Config(cache=False))
    assert sorted(f.path for f in first.findings if f.code == "H411") == ["app.py", "other.py"]
    sites = first.project.python["other.py"].memo("H411 sites", list)
    (tmp_path / "app.py").write_text(view.format("'/home'"))
    second = scan(tmp_path, Config(cache=False))
    assert [f.path for f in second.findings if f.code == "H411"] == ["other.py"]
    assert second.project.python["other.py"] is first.project.python["other.py"]
    assert second.project.python["other.py"].memo("H411 sites", list) is sites
    assert second.project.python["app.py"] is not first.project.python["app.py"]
