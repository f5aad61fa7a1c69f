"""Reporters: turn a scan result into text, JSON, ... Each is a function
``render(result, root) -> str`` that prints nothing itself."""

from hardener.report.json_report import render_json
from hardener.report.text import render_text

FORMATS = {"text": render_text, "json": render_json}

__all__ = ["FORMATS", "render_json", "render_text"]
