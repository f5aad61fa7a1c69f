"""H000: ``hardener: ignore`` comments that hide nothing (``--report-unused-suppressions``).

The scanner calls this after every rule ran, with the suppressions it parsed
(which remember what they hid). A code whose rule did not run (deselected) is
not judged. The fix removes the comment, or the codes in it that hide nothing.
"""

from __future__ import annotations

from hardener.models import Confidence, Finding, Fix, FixError, Safety, Severity
from hardener.source import SuppressionComment, Suppressions

CODE = "H000"
NAME = "unused-suppression"


def unused_suppressions(project, suppressions: dict[str, Suppressions], ran: set[str]) -> list[Finding]:
    from hardener.rules import all_rules

    known = {r.code for r in all_rules()}
    out: list[Finding] = []
    sources = list(project.python.items()) + list(project.templates.items())
    for rel, source in sources:
        if b"hardener:" not in source.data:
            continue
        sup = suppressions.get(rel)
        if sup is None:
            kind = "python" if rel in project.python else "template"
            sup = suppressions[rel] = Suppressions.parse(source.data.decode("utf-8", "replace"), kind)
        for comment, why, drop in sup.unused(ran, known):
            out.append(Finding(
                code=CODE, name=NAME, category="other", severity=Severity.LOW, confidence=Confidence.HIGH,
                cwe=None, message=f"Unused suppression `{comment.text}`: {why}", path=rel,
                line=comment.line, column=comment.column, end_line=comment.line, end_column=comment.end_column,
                fix=_fix(project, rel, source.data, comment, drop), snippet=comment.text,
            ))
    return out


def _fix(project, rel: str, data: bytes, comment: SuppressionComment, drop: frozenset[str]) -> Fix:
    keep = sorted(c for c in comment.codes if c not in drop) if comment.codes is not None else []

    def compute():
        from hardener.fixkit import ChangeBuilder

        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise FixError(f"{rel} is not UTF-8; remove the comment by hand") from None
        lines = text.splitlines(keepends=True)
        if not 1 <= comment.line <= len(lines):
            raise FixError("could not locate the comment")
        line = lines[comment.line - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        start = body.find(comment.text)
        if start < 0:
            raise FixError("could not locate the comment")
        if keep:
            form = "ignore-file" if comment.file_level else "ignore"
            new_body = body[:start] + f"hardener: {form}[{', '.join(keep)}]" + body[start + len(comment.text):]
        else:
            new_body = _remove(body, start, start + len(comment.text), template=rel in project.templates)
        if new_body is None:
            lines[comment.line - 1] = ""  # the line held only the comment
        else:
            lines[comment.line - 1] = new_body + ending
        builder = ChangeBuilder(project)
        builder.set(rel, "".join(lines).encode("utf-8"))
        return builder.build()

    title = "Remove the codes that hide nothing" if keep else "Remove the unused suppression comment"
    return Fix(title, Safety.SAFE, compute)


def _remove(body: str, start: int, end: int, *, template: bool) -> str | None:
    """The line without the suppression; None when nothing else is left on it."""
    if template:
        # the Jinja comment around it goes too when it holds nothing else
        open_at = body.rfind("{#", 0, start)
        close_at = body.find("#}", end)
        if open_at >= 0 and close_at >= 0:
            inside = body[open_at + 2:start] + body[end:close_at]
            if not inside.strip(" -"):
                start, end = open_at, close_at + 2
        new = body[:start].rstrip() + (" " if body[:start].strip() and body[end:].strip() else "") + body[end:].lstrip()
        if not body[:start].strip():
            new = body[:start] + body[end:].lstrip()
        return new if new.strip() else None
    hash_at = body.rfind("#", 0, start)
    before, after = body[:start], body[end:]
    if hash_at >= 0 and not body[hash_at + 1:start].strip() and not after.strip():
        # "#  hardener: ignore[...]" is the whole comment: drop it and the spaces before it
        before = body[:hash_at].rstrip()
        return before if before.strip() else None
    if hash_at >= 0 and not body[hash_at + 1:start].strip():
        # "# hardener: ignore[X]  # other words": keep the other comment
        rest = after.lstrip()
        if rest.startswith("#"):
            rest = rest[1:].lstrip()
        return body[:hash_at] + "# " + rest
    return (before.rstrip() + " " + after.lstrip()).rstrip()
