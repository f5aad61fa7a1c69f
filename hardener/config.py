"""``[tool.hardener]`` in pyproject.toml, merged with command-line flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(Exception):
    """Bad configuration: the message names the file, the key and what is allowed."""


@dataclass
class Config:
    # problems that do not stop the run (e.g. a pyproject.toml that is not valid TOML)
    errors: list[tuple[str, str]] = field(default_factory=list, compare=False, repr=False)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    min_severity: str = "low"
    min_confidence: str = "low"
    fail_on: str = "low"
    headers_fix: str = "talisman"  # or "after_request"
    paramstyle: str | None = None  # override for SQL fixes: qmark, format, named
    cache: bool = True
    report_unused_suppressions: bool = False  # report `hardener: ignore` comments that hide nothing (H000)
    tool_suppressions: bool = True  # bandit's `# nosec B608` and ruff's `# noqa: S608` hide the matching findings
    baseline: str | None = None  # a file written by --write-baseline: its findings are not reported
    # the loaded baseline (hardener.baseline.Baseline), set by the front end
    baseline_data: object | None = field(default=None, compare=False, repr=False)
    source: str = field(default="", compare=False, repr=False)  # the file the settings came from

    def fingerprint(self) -> str:
        import json

        skip = ("errors", "baseline_data", "source")
        data = {k: v for k, v in self.__dict__.items() if k not in skip}
        if self.baseline_data is not None:  # what the baseline holds changes the results, not just its path
            data["baseline_entries"] = sorted(map(list, getattr(self.baseline_data, "entries", {}).items()), key=str)
        return json.dumps(data, sort_keys=True, default=str)

    def fails(self, severity) -> bool:
        """Does a finding of this severity make the run fail (``fail-on``)?"""
        return int(severity) >= SEVERITIES.index(self.fail_on) + 1


SEVERITIES = ("low", "medium", "high", "critical")
CONFIDENCES = ("low", "medium", "high")
ALLOWED = {
    "select": "a list of rule codes or prefixes",
    "ignore": "a list of rule codes or prefixes",
    "exclude": "a list of glob patterns",
    "per-file-ignores": "a table of glob = [codes]",
    "min-severity": "one of " + ", ".join(SEVERITIES),
    "min-confidence": "one of " + ", ".join(CONFIDENCES),
    "fail-on": "one of " + ", ".join(SEVERITIES),
    "headers-fix": "one of talisman, after_request",
    "paramstyle": "one of qmark, format, named",
    "cache": "true or false",
    "report-unused-suppressions": "true or false",
    "tool-suppressions": "true or false",
    "baseline": "a path to a baseline file (written by --write-baseline), relative to the project root",
}
HEADERS_FIXES = ("talisman", "after_request")
PARAMSTYLES = ("qmark", "format", "named")


def _suggest(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key.replace("_", "-"), list(ALLOWED), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_selectors(codes: list[str], where: str) -> None:
    """Every code must name a rule, a code prefix, a category or ALL."""
    from hardener.models import CATEGORIES
    from hardener.rules import all_rules

    rules = all_rules()
    for code in codes:
        c = code.strip()
        if not (c.upper() == "ALL" or c.lower() in CATEGORIES
                or any(r.code.startswith(c.upper()) or r.name == c for r in rules)):
            raise ConfigError(
                f"{where}: unknown rule selector {code!r}; expected rule codes or prefixes "
                f"({', '.join(r.code for r in rules)}), rule names, categories ({', '.join(CATEGORIES)}) or ALL"
                "; see `hardener --list-rules`"
            )


def load_config(root: Path) -> Config:
    config = Config()
    path = root / "pyproject.toml"
    if not path.is_file():
        return config
    import tomlkit  # imported here so `hardener --version` and --help stay quick

    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    except Exception as exc:  # tomlkit raises several error types
        # The rest of the project can still be scanned, with the defaults.
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        config.errors.append(("pyproject.toml", f"not valid TOML ({reason}); [tool.hardener] settings ignored"))
        return config
    tool = doc.get("tool", {})
    table = tool.get("hardener") if isinstance(tool, dict) else None
    if table is None:
        return config
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.hardener] must be a table of settings; allowed keys: {', '.join(ALLOWED)}")
    config.source = str(path)
    for key, value in table.unwrap().items():
        if key not in ALLOWED:
            raise ConfigError(f"{path}: [tool.hardener] unknown key {key!r}{_suggest(key)}; allowed keys: {', '.join(ALLOWED)}")
        bad = ConfigError(f"{path}: [tool.hardener] {key} = {value!r} is not allowed; expected {ALLOWED[key]}")
        if key in ("select", "ignore", "exclude"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise bad
            if key != "exclude":
                check_selectors(value, f"{path}: [tool.hardener] {key}")
            setattr(config, key, value)
        elif key == "per-file-ignores":
            if not isinstance(value, dict) or not all(
                isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()
            ):
                raise bad
            for glob, codes in value.items():
                check_selectors(codes, f"{path}: [tool.hardener.per-file-ignores] {glob!r}")
            config.per_file_ignores = value
        elif key in ("min-severity", "fail-on"):
            if value not in SEVERITIES:
                raise bad
            setattr(config, key.replace("-", "_"), value)
        elif key == "min-confidence":
            if value not in CONFIDENCES:
                raise bad
            config.min_confidence = value
        elif key == "headers-fix":
            if value not in HEADERS_FIXES:
                raise bad
            config.headers_fix = value
        elif key == "paramstyle":
            if value not in PARAMSTYLES:
                raise bad
            config.paramstyle = value
        elif key in ("cache", "report-unused-suppressions", "tool-suppressions"):
            if not isinstance(value, bool):
                raise bad
            setattr(config, key.replace("-", "_"), value)
        elif key == "baseline":
            if not isinstance(value, str) or not value.strip():
                raise bad
            config.baseline = value
    return config
