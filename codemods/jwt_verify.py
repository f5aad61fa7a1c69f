"""H532 jwt-verification-disabled: PyJWT (or python-jose) decoding tokens
without checking their signature or expiry, or accepting ``alg: none``."""

from __future__ import annotations

import libcst as cst

from hardener.fixkit import ChangeBuilder
from hardener.models import Confidence, Fix, Safety, Severity
from hardener.project import is_test_path, literal_value, string_value
from hardener.rules import Example, Rule, register

from ._flaskapi import facts_or_imports, arg_value, call_name, calls_in, keyword, string_list

DECODERS = {"jwt.decode", "jwt.decode_complete", "jwt.api_jwt.decode", "jwt.api_jwt.decode_complete",
            "jwt.PyJWT.decode", "jose.jwt.decode"}
OFF_OPTIONS = {"verify_signature": "the signature", "verify_exp": "the expiry"}


class _Problem:
    def __init__(self, node: cst.CSTNode, what: str, remove: cst.CSTNode | None, inside: cst.CSTNode | None):
        self.node = node  # what to report
        self.what = what
        self.remove = remove  # what the fix deletes (an Arg, a dict element or a list element)
        self.inside = inside  # the container it is deleted from


def _problems(call: cst.Call) -> list[_Problem]:
    out = []
    verify = keyword(call, "verify")
    if verify is not None and literal_value(verify.value) is False:
        out.append(_Problem(verify, "`verify=False` turns every check off", verify, call))
    options = keyword(call, "options")
    if options is not None and isinstance(options.value, cst.Dict):
        for element in options.value.elements:
            if isinstance(element, cst.DictElement) and string_value(element.key) in OFF_OPTIONS \
                    and literal_value(element.value) is False:
                key = string_value(element.key)
                out.append(_Problem(element, f"`{key}: False` skips checking {OFF_OPTIONS[key]}", element, options.value))
    algorithms = keyword(call, "algorithms")
    if algorithms is not None and isinstance(algorithms.value, (cst.List, cst.Tuple)):
        for element in algorithms.value.elements:
            if (string_value(element.value) or "").lower() == "none":
                out.append(_Problem(element, "algorithm `none` accepts unsigned tokens", element, algorithms.value))
    elif algorithms is not None and (string_value(algorithms.value) or "").lower() == "none":
        out.append(_Problem(algorithms, "algorithm `none` accepts unsigned tokens", None, None))
    return out


def _why_no_fix(call: cst.Call, problems: list[_Problem]) -> str | None:
    key = arg_value(call, 1, "key")
    if key is None or literal_value(key) in ("", None):
        return "pass the signing key (or public key) so the token can be verified"
    algorithms = string_list(arg_value(call, 2, "algorithms"))
    if algorithms is None and keyword(call, "algorithms") is None:
        return "pass `algorithms=[...]` with the algorithm the tokens are signed with"
    if algorithms is not None and not [a for a in algorithms if a.lower() != "none"]:
        return "name the real signing algorithm instead of `none`"
    if any(p.remove is None for p in problems):
        return "name the real signing algorithm instead of `none`"
    return None


class _Remove(cst.CSTTransformer):
    """Delete elements/arguments by identity; drop ``options={}`` left empty."""

    def __init__(self, call: cst.Call, doomed: set[int]):
        super().__init__()
        self.call = call
        self.doomed = doomed

    def on_leave(self, original_node, updated_node):
        if id(original_node) in self.doomed:
            return cst.RemoveFromParent()
        return super().on_leave(original_node, updated_node)

    def leave_Call(self, original_node, updated_node):
        if original_node is not self.call:
            return updated_node
        args = [a for a in updated_node.args
                if not (a.keyword is not None and a.keyword.value == "options" and isinstance(a.value, cst.Dict)
                        and not a.value.elements)]
        if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(args=args)

    def leave_Dict(self, original_node, updated_node):
        return _strip_trailing_comma(updated_node)

    def leave_List(self, original_node, updated_node):
        return _strip_trailing_comma(updated_node)


def _strip_trailing_comma(node):
    elements = list(node.elements)
    if elements and elements[-1].comma is not cst.MaybeSentinel.DEFAULT and len(elements) == 1:
        elements[-1] = elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return node.with_changes(elements=elements)
    return node


@register
class JwtVerificationDisabled(Rule):
    """JWT decoded without verifying it.

    ## What it does
    Finds `jwt.decode(...)` calls (PyJWT, python-jose) that skip the checks
    a token exists for: `verify=False`, `options={"verify_signature": False}`,
    `options={"verify_exp": False}`, or `algorithms` that include `none`.

    ## Why is this bad?
    Without the signature check anyone can write a token with any claims
    (`{"sub": "admin", "role": "admin"}`, signed with nothing: `alg: none`)
    and the code trusts it. Without the expiry check a stolen token works
    forever. "The gateway checked it already" stops being true the day a
    request reaches the app another way.

    ## Example
    ```python
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_signature": False})
    ```

    ## Use instead
    ```python
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    ```
    and handle `jwt.InvalidTokenError` (401). To read a token's header
    before choosing the key, use `jwt.get_unverified_header`, then verify.

    ## Fix safety
    Review: the fix removes the switch when the call already names the key
    and the algorithms, so forged, unsigned and expired tokens are refused
    (`jwt.InvalidTokenError`); tokens signed with another key than the one
    passed are refused too. Without a key or algorithms there is no
    automatic fix: the message says what to pass.

    ## References
    - https://pyjwt.readthedocs.io/en/stable/usage.html#reading-the-claimset-without-validation
    - https://datatracker.ietf.org/doc/html/rfc8725#section-3.1
    - CWE-347: Improper Verification of Cryptographic Signature
    """

    code = "H532"
    name = "jwt-verification-disabled"
    category = "password"
    severity = Severity.CRITICAL
    confidence = Confidence.HIGH
    cwe = 347
    triggers = (b"jwt",)

    VALID = [
        "import jwt\nfrom flask import Flask\napp = Flask(__name__)\n"
        "def claims(token, key):\n    return jwt.decode(token, key, algorithms=['HS256'])\n",
        "import jwt\nfrom flask import Flask\napp = Flask(__name__)\n"
        "def kid(token):\n    return jwt.get_unverified_header(token)['kid']\n",
        "import jwt\nfrom flask import Flask\napp = Flask(__name__)\n"
        "def claims(token, key):\n    return jwt.decode(token, key, algorithms=['RS256'], options={'verify_aud': False})\n",
    ]
    INVALID = [
        Example(
            "import jwt\nfrom flask import request\n\n\ndef claims(key):\n"
            "    token = request.headers['Authorization'][7:]\n"
            "    return jwt.decode(token, key, algorithms=['HS256'],\n"
            "                      options={'verify_signature': False})\n",
            "import jwt\nfrom flask import request\n\n\ndef claims(key):\n"
            "    token = request.headers['Authorization'][7:]\n"
            "    return jwt.decode(token, key, algorithms=['HS256'])\n",
            unsafe=True,
        ),
        Example(
            "from jwt import decode\ndef claims(t, key):\n"
            "    return decode(t, key, algorithms=['HS256', 'none'], options={'verify_exp': False, 'verify_aud': False})\n",
            "from jwt import decode\ndef claims(t, key):\n"
            "    return decode(t, key, algorithms=['HS256'], options={'verify_aud': False})\n",
            findings=2, unsafe=True,
        ),
        Example(
            "import jwt\ndef peek(token):\n    return jwt.decode(token, options={'verify_signature': False})\n",
            None,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        facts = facts_or_imports(project, file)
        for call in calls_in(file.module):
            name = call_name(facts, call.func)
            if name not in DECODERS:
                continue
            problems = _problems(call)
            if not problems:
                continue
            why_not = _why_no_fix(call, problems)
            fix = None if why_not else self._fix(project, file, call, problems)
            for problem in problems:
                message = f"JWT decoded without verification: {problem.what}; forged or expired tokens are accepted"
                if why_not:
                    message += f" (no automatic fix: {why_not})"
                yield self.finding(file, problem.node, message, fix)

    def _fix(self, project, file, call: cst.Call, problems: list[_Problem]) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            transformer = _Remove(call, {id(p.remove) for p in problems})
            builder.edit_python(file.path, lambda m: m.visit(transformer), file=file)
            builder.note("The token's signature and expiry are checked again: forged, unsigned and expired tokens "
                         "raise jwt.InvalidTokenError; make sure the caller turns that into a 401")
            return builder.build()

        return Fix("Verify the token's signature and expiry", Safety.REVIEW, compute,
                   reason="tokens signed with another key than the one passed are refused")
