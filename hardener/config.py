"""``[tool.hardener]`` in pyproject.toml, merged with command-line flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tomlkit


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

    def fingerprint(self) -> str:
        import json

        return json.dumps({k: v for k, v in self.__dict__.items() if k != "errors"}, sort_keys=True, default=str)


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
}


def load_config(root: Path) -> Config:
    config = Config()
    path = root / "pyproject.toml"
    if not path.is_file():
        return config
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    except Exception as exc:  # tomlkit raises several error types
        # The rest of the project can still be scanned, with the defaults.
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        config.errors.append(("pyproject.toml", f"not valid TOML ({reason}); [tool.hardener] settings ignored"))
        return config
    table = doc.get("tool", {}).get("hardener")
    if table is None:
        return config
    for key, value in table.unwrap().items():
        if key not in ALLOWED:
            raise ConfigError(f"{path}: [tool.hardener] unknown key {key!r}; allowed keys: {', '.join(ALLOWED)}")
        bad = ConfigError(f"{path}: [tool.hardener] {key} = {value!r} is not allowed; expected {ALLOWED[key]}")
        if key in ("select", "ignore", "exclude"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise bad
            setattr(config, key, value)
        elif key == "per-file-ignores":
            if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
                raise bad
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
            if value not in ("talisman", "after_request"):
                raise bad
            config.headers_fix = value
        elif key == "paramstyle":
            if value not in ("qmark", "format", "named"):
                raise bad
            config.paramstyle = value
        elif key == "cache":
            if not isinstance(value, bool):
                raise bad
            config.cache = value
    return config
