"""[tool.hardener] in pyproject.toml: every key, CLI flags overriding them,
and bad keys or values exiting 2 with the file, the key and what is allowed."""

from __future__ import annotations

import pytest

from conftest import run_hardener
from hardener.cli import apply_flags, build_parser
from hardener.config import ALLOWED, Config, ConfigError, load_config
from reportkit import ONLY, APP

LOW_APP = APP  # H101 findings are "high"


def project(make_project, settings: str, files: dict[str, str] | None = None):
    return make_project({"app.py": APP, "pyproject.toml": "[project]\nname = 'x'\n\n[tool.hardener]\n" + settings,
                         **(files or {})})


def test_every_key_loads(make_project):
    root = project(make_project, """
select = ["H1", "debug"]
ignore = ["H000"]
exclude = ["migrations/*"]
per-file-ignores = { "tests/*" = ["H101"] }
min-severity = "medium"
min-confidence = "high"
fail-on = "high"
headers-fix = "after_request"
paramstyle = "named"
cache = false
report-unused-suppressions = true
tool-suppressions = false
baseline = ".hardener-baseline.json"
""")
    cfg = load_config(root)
    assert cfg.select == ["H1", "debug"] and cfg.ignore == ["H000"] and cfg.exclude == ["migrations/*"]
    assert cfg.per_file_ignores == {"tests/*": ["H101"]}
    assert (cfg.min_severity, cfg.min_confidence, cfg.fail_on) == ("medium", "high", "high")
    assert (cfg.headers_fix, cfg.paramstyle, cfg.cache) == ("after_request", "named", False)
    assert cfg.report_unused_suppressions is True and cfg.baseline == ".hardener-baseline.json"
    assert cfg.tool_suppressions is False
    assert cfg.source.endswith("pyproject.toml")


def test_defaults_without_table(make_project):
    root = make_project({"app.py": APP, "pyproject.toml": "[project]\nname = 'x'\n"})
    assert load_config(root) == Config()


@pytest.mark.parametrize("settings,key,allowed", [
    ('min_severity = "high"\n', "min_severity", "did you mean 'min-severity'"),
    ('colour = true\n', "colour", "allowed keys: select"),
    ('min-severity = "urgent"\n', "min-severity", "one of low, medium, high, critical"),
    ('fail-on = 3\n', "fail-on", "one of low, medium, high, critical"),
    ('min-confidence = "certain"\n', "min-confidence", "one of low, medium, high"),
    ('headers-fix = "nginx"\n', "headers-fix", "one of talisman, after_request"),
    ('paramstyle = "pyformat"\n', "paramstyle", "one of qmark, format, named"),
    ('select = "H101"\n', "select", "a list of rule codes or prefixes"),
    ('select = ["H9"]\n', "select", "unknown rule selector 'H9'"),
    ('ignore = ["nonsense"]\n', "ignore", "categories (csrf"),
    ('per-file-ignores = { "tests/*" = "H101" }\n', "per-file-ignores", "a table of glob = [codes]"),
    ('per-file-ignores = { "tests/*" = ["H9"] }\n', "per-file-ignores", "unknown rule selector 'H9'"),
    ('exclude = [1]\n', "exclude", "a list of glob patterns"),
    ('cache = "no"\n', "cache", "true or false"),
    ('report-unused-suppressions = 1\n', "report-unused-suppressions", "true or false"),
    ('tool-suppressions = "yes"\n', "tool-suppressions", "true or false"),
    ('baseline = ""\n', "baseline", "a path to a baseline file"),
])
def test_bad_settings_exit_2_naming_file_key_and_allowed(make_project, settings, key, allowed):
    root = project(make_project, settings)
    proc = run_hardener(root, "--format", "json") if key in ("min_severity", "select") else None
    if proc is not None:  # through the real command line for a couple of them
        assert proc.returncode == 2
        assert proc.stdout == ""
        message = proc.stderr
        assert message.startswith("hardener: error: ")
    else:
        with pytest.raises(ConfigError) as exc:
            load_config(root)
        message = str(exc.value)
    assert str(root / "pyproject.toml") in message
    assert key in message
    assert allowed in message


def test_tool_hardener_must_be_a_table(make_project):
    root = make_project({"app.py": APP, "pyproject.toml": "[tool]\nhardener = 3\n"})
    proc = run_hardener(root)
    assert proc.returncode == 2 and "[tool.hardener] must be a table" in proc.stderr


def test_every_allowed_key_is_documented():
    from conftest import REPO

    doc = (REPO / "docs" / "configuration.md").read_text()
    for key in ALLOWED:
        assert f"`{key}`" in doc, key


def _args(*argv):
    return build_parser().parse_args(list(argv))


def test_flags_override_settings(make_project, tmp_path):
    root = project(make_project, 'min-severity = "critical"\nfail-on = "critical"\nheaders-fix = "after_request"\n'
                                 'select = ["H101"]\nignore = ["H000"]\n')
    cfg = load_config(root)
    apply_flags(cfg, _args("--min-severity", "low", "--fail-on", "high", "--headers-fix", "talisman",
                           "--paramstyle", "qmark", "--select", "debug", "--ignore", "H1",
                           "--exclude", "build/*,gen/*", "--per-file-ignores", "tests/*:H101"), root)
    assert (cfg.min_severity, cfg.fail_on, cfg.headers_fix, cfg.paramstyle) == ("low", "high", "talisman", "qmark")
    assert cfg.select == ["debug"] and cfg.ignore == ["H000", "H1"]
    assert cfg.exclude == ["build/*", "gen/*"] and cfg.per_file_ignores == {"tests/*": ["H101"]}


@pytest.mark.parametrize("argv,needle", [
    (("--select", "H9"), "--select: unknown rule selector 'H9'"),
    (("--per-file-ignores", "tests"), "expected GLOB:CODES"),
    (("--per-file-ignores", "tests/*:H9"), "unknown rule selector 'H9'"),
])
def test_bad_flags(argv, needle, tmp_path):
    with pytest.raises(ConfigError, match=needle.replace("*", r"\*")):
        apply_flags(Config(), _args(*argv), tmp_path)


def test_min_severity_and_fail_on_through_the_cli(make_project):
    root = project(make_project, 'fail-on = "critical"\n')
    # the high findings are still reported, but do not fail the run
    proc = run_hardener(*ONLY, root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("H101 high") == 2
    # the flag overrides the file
    assert run_hardener(*ONLY, root, "--fail-on", "high").returncode == 1
    # hidden below the minimum severity
    proc = run_hardener(*ONLY, root, "--min-severity", "critical", "--fail-on", "low")
    assert proc.returncode == 0 and "No findings" in proc.stdout


def test_per_file_ignores_and_exclude_from_settings(make_project):
    other = "from flask import Flask\nadmin = Flask(__name__)\nadmin.debug = True\n"
    root = project(make_project, 'per-file-ignores = { "app.py" = ["debug"] }\nexclude = ["vendor/*"]\n',
                   {"admin/site.py": other, "vendor/lib.py": other})
    proc = run_hardener(*ONLY, root, "--format", "github")
    assert proc.returncode == 1
    files = [line.split("file=")[1].split(",")[0] for line in proc.stdout.splitlines()]
    assert files == ["admin/site.py"]


def test_min_confidence_filters(make_project):
    root = make_project({"app.py": APP})
    from hardener.scanner import scan

    assert len(scan(root, Config(cache=False, select=["H101"], min_confidence="high")).findings) == 2  # H101 is high confidence
    finding = scan(root, Config(cache=False, select=["H101"])).findings[0]
    finding.confidence = type(finding.confidence).LOW
    from hardener.scanner import Scanner

    assert Scanner(root, Config(min_confidence="medium"))._keep(finding) is False
    assert Scanner(root, Config(min_confidence="low"))._keep(finding) is True
