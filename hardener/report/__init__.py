"""Reporters: turn a scan result into text, JSON, SARIF or GitHub annotations.

Each is a function ``render(result, root, **options) -> str`` that prints
nothing itself. Options every reporter accepts (and may ignore):
``show_suppressed`` (also list suppressed and baselined findings),
``baseline`` (the baseline file in use, or None) and, for text, ``color``.
"""

from hardener.report.github import render_github
from hardener.report.json_report import render_json
from hardener.report.sarif import render_sarif
from hardener.report.text import render_text

FORMATS = {"text": render_text, "json": render_json, "sarif": render_sarif, "github": render_github}

__all__ = ["FORMATS", "render_github", "render_json", "render_sarif", "render_text"]
