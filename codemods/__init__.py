"""hardener's rules: one module per rule (detector, fix, doc and examples).

This folder is installed as the ``hardener_codemods`` package: a generic
top-level name like ``codemods`` could clash with other distributions.
"""

# Rule modules, imported by hardener.rules.all_rules() on first use.
RULE_MODULES = [
    "debug_mode",
    "secrets",
    "cors",
    "rate_limit",
    "jwt_expiry",
    "jwt_verify",
    "jwt_cookies",
    "json_password",
    "error_details",
    "csrf",
    "security_headers",
    "cookies",
    "uploads",
    "xss",
    "sql_injection",
    "redirects",
    "passwords",
    "unused_suppression",
]
