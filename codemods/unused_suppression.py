"""H000 unused-suppression: a `hardener: ignore` comment that hides nothing.

The detection lives in the engine (``hardener/unused.py``): it needs the
results of every other rule. This module gives the rule its code, name and
documentation (``hardener --explain H000``, docs/rules.md, SARIF rules).
"""

from __future__ import annotations

from hardener.models import Confidence, Severity
from hardener.rules import Example, Rule, register

APP = "from flask import Flask\napp = Flask(__name__)\n"


@register
class UnusedSuppression(Rule):
    """A suppression comment hides no finding.

    ## What it does
    Reported only with `--report-unused-suppressions` (or
    `report-unused-suppressions = true` in `[tool.hardener]`, or `--select H000`).
    Finds `# hardener: ignore[...]` comments in Python files and
    `{# hardener: ignore[...] #}` comments in templates, and the file-level
    `hardener: ignore-file[...]` form, that hid no finding in this scan, and
    codes in them that are not rule codes. A code whose rule did not run
    (deselected with `--select`/`--ignore`) is not judged.

    ## Why is this bad?
    A suppression outlives the code it was written for: once the finding is
    fixed, the comment stays and silently hides the next problem of that kind
    on the same line. A mistyped code suppresses nothing at all while looking
    like it does.

    ## Example
    ```python
    app.run(debug=False)  # hardener: ignore[H101]
    ```

    ## Use instead
    ```python
    app.run(debug=False)
    ```

    ## Fix safety
    Safe: only the comment (or the codes in it that hide nothing) is removed;
    other comment text on the line is kept.

    ## References
    - https://docs.astral.sh/ruff/rules/unused-noqa/ (the same check in ruff)
    """

    code = "H000"
    name = "unused-suppression"
    category = "other"
    severity = Severity.LOW
    confidence = Confidence.HIGH
    cwe = None

    # The examples run with only H000 selected: codes of other rules are not
    # judged then, blanket comments and unknown codes are.
    VALID = [
        # H101 did not run, so its suppression cannot be judged
        APP + "app.debug = True  # hardener: ignore[H101]\n",
        # words in a string are not a comment
        APP + 'HELP = "# hardener: ignore"\n',
        Example({"app.py": APP, "templates/index.html": "<p>{{ name }}</p>{# hardener: ignore[H101] #}\n"}, findings=0),
    ]
    INVALID = [
        Example(APP + "x = 1  # hardener: ignore\n", APP + "x = 1\n"),
        Example(APP + "# hardener: ignore[H999]\ny = 2\n", APP + "y = 2\n"),
        Example(APP + "z = 3  # hardener: ignore[H101, H99X]  # keep this note\n",
                APP + "z = 3  # hardener: ignore[H101]  # keep this note\n"),
        Example(
            {"app.py": APP, "templates/index.html": "<p>{{ name }}</p> {# hardener: ignore #}\n<p>done</p>\n"},
            {"templates/index.html": "<p>{{ name }}</p>\n<p>done</p>\n"},
        ),
    ]
