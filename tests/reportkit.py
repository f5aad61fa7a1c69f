"""Small projects and synthetic findings shared by the reporter, config,
suppression and baseline tests (H101, the debug rule, is the real rule they
trigger; the synthetic one carries a secret to check masking)."""

from __future__ import annotations

from hardener.config import Config
from hardener.models import ChangeSet, Confidence, FileChange, Finding, Fix, Safety, Severity
from hardener.scanner import scan

APP = (
    "from flask import Flask\n"
    "\n"
    "app = Flask(__name__)\n"
    'app.config["DEBUG"] = True\n'
    "\n"
    'if __name__ == "__main__":\n'
    "    app.run(debug=True)\n"
)
SECRET = "s3cr3t-Very-Long-Token-1234567890"
# Other engineers add rules that may also fire on these small apps: the tests
# here are about reporting, so they run the debug rule only.
ONLY = ("--select", "H101")


def secret_finding(result) -> Finding:
    """A finding whose message, snippet and fix all hold a secret value."""
    old = result.project.python["app.py"].data

    def compute() -> ChangeSet:
        new = old + f'SECRET_KEY = os.environ["SECRET_KEY"]  # was {SECRET}\n'.encode()
        return ChangeSet(changes=[
            FileChange("app.py", old, new, secret_values=(SECRET,)),
            FileChange(".env", None, f"SECRET_KEY={SECRET}\n".encode(), mode=0o600, secret_values=(SECRET,)),
        ])

    return Finding(
        code="H199", name="test-hardcoded-secret", category="secret", severity=Severity.CRITICAL,
        confidence=Confidence.HIGH, cwe=798, message=f"Secret key {SECRET} is in the code",
        path="app.py", line=3, column=1, end_line=3, end_column=10,
        fix=Fix("Move the secret to .env", Safety.SAFE, compute), snippet=f"SECRET_KEY = '{SECRET}'",
        secret_values=(SECRET,),
    )


def scan_app(make_project, files: dict[str, str] | None = None, name: str = "proj", **config):
    root = make_project(files or {"app.py": APP}, name)
    config.setdefault("select", ["H101"])
    return root, scan(root, Config(cache=False, **config))
