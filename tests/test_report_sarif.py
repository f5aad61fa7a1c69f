"""--format sarif: valid SARIF 2.1.0 (checked offline against the OASIS
schema vendored in tests/data), rich rule metadata, fingerprints, fixes as
replacements that really turn the old file into the new one, secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_hardener
from hardener.models import FileChange
from hardener.report.sarif import FINGERPRINT_KEY, apply_replacements, render_sarif, replacements
from hardener.rules import all_rules
from reportkit import ONLY, APP, SECRET, scan_app, secret_finding

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def validate(doc: dict) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(doc)


def test_vendored_schema_is_the_oasis_one():
    assert SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_schema_rejects_a_broken_log():
    # the validation in these tests can fail: a result without a message is not SARIF
    doc = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "H101"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)


def test_cli_sarif_is_valid_and_complete(make_project):
    root = make_project({"app.py": APP})
    proc = run_hardener(*ONLY, root, "--format", "sarif")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)  # nothing but the log on stdout
    validate(doc)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "hardener"
    ids = [r["id"] for r in driver["rules"]]
    assert ids == [r.code for r in all_rules()]
    for descriptor in driver["rules"]:
        assert descriptor["shortDescription"]["text"]
        assert descriptor["fullDescription"]["text"]
        assert descriptor["help"]["text"] and descriptor["help"]["markdown"]
        assert descriptor.get("helpUri", "").startswith("https://"), (
            f"{descriptor['id']}: give the rule a CWE or a URL under ## References (it becomes the SARIF helpUri)")
        assert "security" in descriptor["properties"]["tags"]
        assert 0 < float(descriptor["properties"]["security-severity"]) <= 10
    h101 = driver["rules"][ids.index("H101")]
    assert "external/cwe/cwe-489" in h101["properties"]["tags"]
    assert h101["properties"]["security-severity"] == "8.0"  # high
    assert h101["defaultConfiguration"]["level"] == "error"
    # CWE as a taxonomy the rule points into
    (taxonomy,) = run["taxonomies"]
    assert taxonomy["name"] == "CWE"
    assert h101["relationships"][0]["target"] == {"id": "489", "toolComponent": {"name": "CWE"}}
    assert "489" in [t["id"] for t in taxonomy["taxa"]]

    results = run["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [4, 7]
    for r in results:
        assert r["ruleId"] == "H101" and driver["rules"][r["ruleIndex"]]["id"] == "H101"
        assert r["level"] == "error"
        assert len(r["partialFingerprints"][FINGERPRINT_KEY]) == 16
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.resolve().as_uri() + "/"

    # each fix, applied from its replacements, gives the file the fix writes
    old = (root / "app.py").read_text()
    for r in results:
        (fix,) = r["fixes"]
        (change,) = fix["artifactChanges"]
        assert change["artifactLocation"]["uri"] == "app.py"
        new = apply_replacements(old, change["replacements"])
        assert "import os" in new and "FLASK_DEBUG" in new
        compile(new, "app.py", "exec")
    assert (root / "app.py").read_text() == old  # a report writes nothing


def test_fingerprints_survive_edits_elsewhere(make_project):
    _, before = scan_app(make_project, name="a")
    _, after = scan_app(make_project, {"app.py": "# a comment\nimport sys\n\n" + APP}, name="b")

    def prints(result):
        doc = json.loads(render_sarif(result, str(result.root)))
        return [r["partialFingerprints"][FINGERPRINT_KEY] for r in doc["runs"][0]["results"]]

    assert prints(before) == prints(after)


def test_secrets_are_masked_everywhere(make_project):
    _, result = scan_app(make_project)
    result.findings.append(secret_finding(result))
    text = render_sarif(result, str(result.root), show_suppressed=True)
    assert SECRET not in text
    doc = json.loads(text)
    validate(doc)
    synthetic = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "H199"][0]
    assert synthetic["level"] == "error"
    assert "masked" in synthetic["fixes"][0]["description"]["text"]
    uris = [c["artifactLocation"]["uri"] for c in synthetic["fixes"][0]["artifactChanges"]]
    assert uris == ["app.py", ".env"]
    # a rule the registry does not know still gets a descriptor the result points at
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules[synthetic["ruleIndex"]]["id"] == "H199"
    assert "external/cwe/cwe-798" in rules[synthetic["ruleIndex"]]["properties"]["tags"]


def test_suppressed_and_errors(make_project):
    files = {
        "app.py": APP.replace("app.run(debug=True)", "app.run(debug=True)  # hardener: ignore[H101]"),
        "templates/broken.html": "{% if %}\n",
    }
    _, result = scan_app(make_project, files)
    plain = json.loads(render_sarif(result, str(result.root)))
    assert len(plain["runs"][0]["results"]) == 1
    doc = json.loads(render_sarif(result, str(result.root), show_suppressed=True))
    validate(doc)
    run = doc["runs"][0]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert len(suppressed) == 1 and suppressed[0]["suppressions"][0]["kind"] == "inSource"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "templates/broken.html" for n in notes)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(["a\n", "b\n", "c = 1\n", "\n", "x\r\n", "é\n"]), max_size=12),
    st.lists(st.sampled_from(["a\n", "b\n", "c = 2\n", "\n", "y\r\n", "ü\n"]), max_size=12),
    st.booleans(),
)
def test_replacements_rebuild_the_new_file(old_lines, new_lines, trailing):
    old = "".join(old_lines) + ("tail" if trailing else "")
    new = "".join(new_lines)
    change = FileChange("f.py", old.encode(), new.encode())
    assert apply_replacements(old, replacements(change)) == new
    created = FileChange("g.py", None, new.encode())
    assert apply_replacements("", replacements(created)) == new
