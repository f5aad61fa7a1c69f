"""Dependency edits (hardener/deps.py through ChangeBuilder.dependency):
the right file, tomlkit keeping comments and layout, PEP 503 names, extras and
markers, dynamic dependencies, compiled/hashed files and stale lock files."""

from __future__ import annotations

import itertools

import pytest

from hardener.config import Config
from hardener.deps import compile_command, parse_requirement
from hardener.fixkit import ChangeBuilder
from hardener.scanner import scan

APP = "from flask import Flask\napp = Flask(__name__)\n"

PEP621 = '''[build-system]
requires = ["setuptools"]

[project]
name = "shop"  # the shop
version = "1.0"
dependencies = [
    # web
    "Flask>=3.0",
    "SQLAlchemy",  # db
]

[project.optional-dependencies]
test = ["pytest"]
'''


_COUNTER = itertools.count()


def add(make_project, files, name="flask-wtf", spec=None):
    root = make_project({"app.py": APP, **files}, f"p{next(_COUNTER)}")
    builder = ChangeBuilder(scan(root, Config(cache=False)).project)
    builder.dependency(name, spec)
    cs = builder.build()
    return {c.path: c.new.decode() for c in cs.changes}, cs


def test_pep621_append_keeps_comments_and_layout(make_project):
    changed, cs = add(make_project, {"pyproject.toml": PEP621})
    assert changed == {"pyproject.toml": PEP621.replace('    "SQLAlchemy",  # db\n',
                                                        '    "SQLAlchemy",  # db\n    "flask-wtf>=1.2",\n')}
    assert cs.dependencies == ["flask-wtf>=1.2"] and cs.followups == []


@pytest.mark.parametrize("existing", ["Flask-WTF", "flask_wtf==1.2.1", "FLASK.WTF >= 1.0", "flask-wtf[email]>=1"])
def test_never_a_duplicate(make_project, existing):
    text = PEP621.replace('"SQLAlchemy",', f'"SQLAlchemy",\n    "{existing}",')
    changed, cs = add(make_project, {"pyproject.toml": text, "requirements.txt": "flask\n"})
    assert changed == {} and cs.dependencies == []


def test_missing_extra_is_added_to_the_existing_entry(make_project):
    text = PEP621.replace('"SQLAlchemy",', '"SQLAlchemy",\n    "Flask-Limiter>=3.0; python_version >= \'3.8\'",\n    "flask_limiter>=3.0",')
    changed, cs = add(make_project, {"pyproject.toml": text}, "flask-limiter", "[redis]>=3.5")
    assert '"flask_limiter[redis]>=3.0",' in changed["pyproject.toml"]
    assert changed["pyproject.toml"].count("imiter") == 2
    assert cs.dependencies == ["flask-limiter[redis]>=3.5"]


def test_conditional_entry_is_not_duplicated_but_reported(make_project):
    text = PEP621.replace('"SQLAlchemy",', '"SQLAlchemy",\n    "flask-wtf; sys_platform == \'linux\'",')
    changed, cs = add(make_project, {"pyproject.toml": text})
    assert changed == {}
    assert "only a dependency when `sys_platform == 'linux'`" in cs.followups[0]


@pytest.mark.parametrize("lock,command", [
    ("poetry.lock", "poetry lock"), ("uv.lock", "uv lock"), ("pdm.lock", "pdm lock"),
])
def test_stale_lock_files_are_named(make_project, lock, command):
    changed, cs = add(make_project, {"pyproject.toml": PEP621, lock: "# lock\n"})
    assert lock not in changed
    assert any(f.startswith(f"{lock} is now out of date") and command in f for f in cs.followups)


def test_poetry_table(make_project):
    text = ('[tool.poetry]\nname = "shop"\n\n[tool.poetry.dependencies]\npython = "^3.10"\n'
            'Flask = "^3.0"  # web\nflask-limiter = "^3.5"\n\n[tool.poetry.group.dev.dependencies]\npytest = "*"\n')
    changed, _ = add(make_project, {"pyproject.toml": text, "poetry.lock": ""})
    assert changed["pyproject.toml"] == text.replace('flask-limiter = "^3.5"\n', 'flask-limiter = "^3.5"\nflask-wtf = ">=1.2"\n')
    changed, _ = add(make_project, {"pyproject.toml": text}, "flask_limiter", "[redis]")
    assert 'flask-limiter = {version = "^3.5", extras = ["redis"]}' in changed["pyproject.toml"]
    changed, _ = add(make_project, {"pyproject.toml": text}, "FLASK", "")
    assert changed == {}


@pytest.mark.parametrize("tool", ["setuptools", "hatch"])
def test_dynamic_dependencies_are_followed(make_project, tool):
    table = ('[tool.setuptools.dynamic]\ndependencies = {file = ["requirements/run.txt"]}\n' if tool == "setuptools"
             else '[tool.hatch.metadata.hooks.requirements_txt]\nfiles = ["requirements/run.txt"]\n')
    pyproject = f'[project]\nname = "x"\ndynamic = ["dependencies", "version"]\n\n{table}'
    changed, _ = add(make_project, {"pyproject.toml": pyproject, "requirements/run.txt": "flask\n",
                                    "requirements.txt": "-e .\n"})
    assert changed == {"requirements/run.txt": "flask\nflask-wtf>=1.2\n"}


def test_requirements_file_keeps_line_endings_and_follows_includes(make_project):
    changed, _ = add(make_project, {"requirements.txt": "-r requirements/base.txt\n",
                                    "requirements/base.txt": "flask==3.0.0\r\npython-dotenv  # env"})
    assert changed == {"requirements/base.txt": "flask==3.0.0\r\npython-dotenv  # env\r\nflask-wtf>=1.2\r\n"}
    changed, _ = add(make_project, {"requirements.txt": "-r requirements/base.txt\n",
                                    "requirements/base.txt": "Flask_WTF==1.2.1 \\\n    --hash=sha256:00\n"})
    assert changed == {}


COMPILED = """#
# This file is autogenerated by pip-compile with Python 3.12
# by the following command:
#
#    pip-compile --generate-hashes --output-file=requirements.txt requirements.in
#
flask==3.0.0 \\
    --hash=sha256:0123
"""


def test_compiled_requirements_are_not_edited(make_project):
    changed, cs = add(make_project, {"requirements.txt": COMPILED})
    assert changed == {}
    assert cs.followups == [
        "requirements.txt is compiled, so hardener did not edit it: add 'flask-wtf>=1.2' to requirements.in and run "
        "`pip-compile --generate-hashes --output-file=requirements.txt requirements.in`"
    ]
    # with the source next to it: the .in is edited and the compiled file named as stale
    changed, cs = add(make_project, {"requirements.txt": COMPILED, "requirements.in": "flask\n"})
    assert changed == {"requirements.in": "flask\nflask-wtf>=1.2\n"}
    assert cs.followups == ["requirements.txt is now out of date: run "
                            "`pip-compile --generate-hashes --output-file=requirements.txt requirements.in`"]


def test_hand_hashed_requirements_are_not_edited(make_project):
    changed, cs = add(make_project, {"requirements.txt": "flask==3.0.0 --hash=sha256:0123\n"})
    assert changed == {}
    assert "pins every package with --hash" in cs.followups[0]
    assert "pip-compile --generate-hashes" in cs.followups[0]


def test_pipfile(make_project):
    pipfile = '[[source]]\nurl = "https://example.invalid/simple"\nname = "main"\n\n[packages]\nflask = "*"\n\n[dev-packages]\npytest = "*"\n'
    changed, cs = add(make_project, {"Pipfile": pipfile, "Pipfile.lock": "{}"})
    assert changed == {"Pipfile": pipfile.replace('flask = "*"\n', 'flask = "*"\nflask-wtf = ">=1.2"\n')}
    assert cs.followups == ["Pipfile.lock is now out of date: run `pipenv lock`"]


def test_project_without_dependencies_and_nothing_at_all(make_project):
    changed, _ = add(make_project, {"pyproject.toml": '[project]\nname = "x"\n'})
    assert changed == {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask-wtf>=1.2"]\n'}
    changed, cs = add(make_project, {})
    assert changed == {} and cs.followups == ["no dependency file found: add 'flask-wtf>=1.2' to your project's dependencies"]
    changed, cs = add(make_project, {"pyproject.toml": "[project\n"})
    assert changed == {} and "not valid TOML" in cs.followups[0]


def test_idempotent_through_two_fixes(make_project):
    root = make_project({"app.py": APP, "pyproject.toml": PEP621})
    builder = ChangeBuilder(scan(root, Config(cache=False)).project)
    builder.dependency("flask-wtf")
    builder.dependency("Flask_WTF")
    (change,) = builder.build().changes
    assert change.new.decode().count("flask-wtf") == 1


def test_parse_requirement_and_compile_command():
    req = parse_requirement("Flask_WTF[Email, i18n] >=1.2,<2 ; python_version >= '3.9'")
    assert (req.name, req.norm, sorted(req.extras), req.spec, req.marker) == (
        "Flask_WTF", "flask-wtf", ["email", "i18n"], ">=1.2,<2", "python_version >= '3.9'")
    assert str(parse_requirement("pkg @ https://example.invalid/pkg.zip")) == "pkg @ https://example.invalid/pkg.zip"
    assert compile_command("# This file was autogenerated by uv via the following command:\n"
                           "#    uv pip compile requirements.in -o requirements.txt\nflask==3\n") == \
        "uv pip compile requirements.in -o requirements.txt"
    assert compile_command("flask\n") is None


def test_stale_lock_file_is_in_the_apply_summary(make_project):
    from hardener.apply import Applied, ApplyReport
    from hardener.summary import render_summary

    from reportkit import scan_app

    _, result = scan_app(make_project, name="findings")
    changed, cs = add(make_project, {"pyproject.toml": PEP621, "uv.lock": ""})
    report = ApplyReport(applied=[Applied(result.findings[0], cs)], written=list(changed))
    summary = render_summary(report)
    assert "Dependencies added: flask-wtf>=1.2" in summary
    assert "uv.lock is now out of date: run `uv lock`" in summary
