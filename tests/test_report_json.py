"""--format json: versioned, documented in docs/json-format.md with a JSON
Schema that the output is checked against."""

from __future__ import annotations

import json
import re

import jsonschema

from conftest import REPO, run_hardener
from hardener.report.json_report import SCHEMA_PATH, SCHEMA_VERSION, render_json
from reportkit import ONLY, APP, SECRET, scan_app, secret_finding

SCHEMA = json.loads(SCHEMA_PATH.read_text())


def validate(doc):
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_docs_embed_the_schema_and_describe_every_field():
    doc = (REPO / "docs" / "json-format.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", doc, re.DOTALL)
    assert any(json.loads(b) == SCHEMA for b in blocks), "docs/json-format.md must embed report.schema.json verbatim"
    for name in SCHEMA["$defs"]["finding"]["properties"]:
        assert f"`{name}`" in doc, name


def test_cli_json_validates(make_project):
    root = make_project({"app.py": APP.replace("app.run(debug=True)", "app.run(debug=True)  # hardener: ignore")})
    proc = run_hardener(*ONLY, root, "--format", "json", "--show-suppressed")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    validate(data)
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert data["summary"]["findings"] == 1 and data["summary"]["by_severity"]["high"] == 1
    assert data["summary"]["suppressed"] == 1
    (finding,) = data["findings"]
    assert finding["code"] == "H101" and finding["line"] == 4 and finding["status"] == "open"
    assert finding["fix"]["safety"] == "safe" and finding["fix"]["files"] == ["app.py"]
    assert "+import os" in finding["fix"]["diff"]
    assert [f["status"] for f in data["suppressed"]] == ["suppressed"]


def test_schema_catches_a_wrong_report(make_project):
    _, result = scan_app(make_project)
    data = json.loads(render_json(result, str(result.root)))
    data["findings"][0]["severity"] = "urgent"
    try:
        validate(data)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("the schema accepted an unknown severity")


def test_secrets_masked(make_project):
    _, result = scan_app(make_project)
    result.findings.append(secret_finding(result))
    text = render_json(result, str(result.root))
    assert SECRET not in text
    data = json.loads(text)
    validate(data)
    assert data["summary"]["by_severity"]["critical"] == 1
    assert SECRET[:2] + "*" in data["findings"][-1]["message"]
