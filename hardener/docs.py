"""Rule documentation: ``hardener --explain CODE`` and docs/rules.md."""

from __future__ import annotations


def cwe_url(cwe: int | None) -> str:
    return f"https://cwe.mitre.org/data/definitions/{cwe}.html" if cwe else ""


def doc_sections(rule) -> dict[str, str]:
    """The doc's sections by title ("What it does", "Why is this bad?", ...); "" holds the title part."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in rule.doc().splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        else:
            sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


def reference_urls(rule) -> list[str]:
    import re

    return re.findall(r"https?://[^\s)>\]]+", doc_sections(rule).get("References", ""))


def help_uri(rule) -> str:
    """Where to read more: the rule's first reference, else its CWE entry."""
    urls = reference_urls(rule)
    return urls[0] if urls else cwe_url(rule.cwe)


def explain(rule) -> str:
    head = f"{rule.code} {rule.name}"
    meta = (f"category: {rule.category}   severity: {rule.severity}   confidence: {rule.confidence}"
            + (f"   CWE-{rule.cwe} ({cwe_url(rule.cwe)})" if rule.cwe else ""))
    return f"{head}\n{'=' * len(head)}\n{meta}\n\n{rule.doc()}\n"


def rules_markdown() -> str:
    from hardener.rules import all_rules

    out = ["# Rules", "", "Generated from the rule modules by `python -m hardener.docs`; do not edit by hand.", ""]
    out.append("| code | name | category | severity | fix |")
    out.append("|---|---|---|---|---|")
    for rule in all_rules():
        out.append(f"| [{rule.code}](#{rule.code.lower()}-{rule.name}) | {rule.name} | {rule.category} | {rule.severity} | {rule.title()} |")
    out.append("")
    for rule in all_rules():
        out.append(f"## {rule.code} {rule.name}")
        out.append("")
        out.append(f"category: {rule.category} · severity: {rule.severity} · confidence: {rule.confidence}"
                   + (f" · [CWE-{rule.cwe}]({cwe_url(rule.cwe)})" if rule.cwe else ""))
        out.append("")
        out.append(rule.doc().replace("\n## ", "\n### "))
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(rules_markdown(), end="")
