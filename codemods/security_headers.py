"""H211 security-headers-missing: no CSP, clickjacking, nosniff and referrer
headers (and no HTTPS redirect / HSTS for production)."""

from __future__ import annotations

import posixpath
import re

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports, insert_after_imports
from hardener.models import Confidence, Fix, FixError, Safety, Severity
from hardener.project import AppObject, dotted_name, string_value
from hardener.rules import Example, Rule, register
from hardener.source import parse_unvalidated

from ._flaskapi import all_views, calls_in, keyword
from ._webapp import (
    TALISMAN_CLASSES, _project_class, _project_function, add_nonces, app_home, app_scopes, app_uses_extension,
    collect_assets, csp_policy, inline_blocks, bound_names, insert_in_scope, production_apps, templates_under,
    unique_name,
)

# The production switch: HTTPS redirect and HSTS only when it is set, so that
# `flask run` and test clients on plain http://127.0.0.1 keep working.
HTTPS_ENV = "FORCE_HTTPS"
REFERRER = "strict-origin-when-cross-origin"
HSTS = "max-age=31536000; includeSubDomains"
# an app's template folder or Jinja loader set in code: its templates may not be the ones read
LOADER_SET = re.compile(rb"\.template_folder\s*=(?!=)|\bjinja_loader\b|\.jinja_env\.loader\s*=(?!=)")
REQUIRED = {
    "content-security-policy": "Content-Security-Policy",
    "x-frame-options": "X-Frame-Options",
    "x-content-type-options": "X-Content-Type-Options",
    "referrer-policy": "Referrer-Policy",
}


class _HeaderWrites(cst.CSTVisitor):
    """Header names a function sets: ``r.headers["X"] = v``, ``r.headers.set/setdefault/add("X", v)``,
    ``r.headers.update({...})``."""

    def __init__(self):
        self.names: dict[str, str | None] = {}  # lowercased name -> literal value if any
        self.dicts: dict[str, cst.Dict] = {}  # params = {"X_CONTENT_TYPE_OPTIONS": "X-Content-Type-Options", ...}

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Name) and isinstance(node.value, cst.Dict):
                self.dicts[t.value] = node.value
            if isinstance(t, cst.Subscript) and (dotted_name(t.value) or "").endswith("headers") and len(t.slice) == 1 \
                    and isinstance(t.slice[0].slice, cst.Index):
                key = t.slice[0].slice.value
                name = string_value(key)
                if name:
                    self.names[name.lower()] = string_value(node.value)
                elif isinstance(key, cst.Subscript) and isinstance(key.value, cst.Name) and key.value.value in self.dicts:
                    # response.headers[params[key]] = ...: each header the dict names (pgadmin)
                    for element in self.dicts[key.value.value].elements:
                        if isinstance(element, cst.DictElement) and string_value(element.value):
                            self.names.setdefault(string_value(element.value).lower(), None)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or not (dotted_name(func.value) or "").endswith("headers"):
            return
        if func.attr.value in ("set", "setdefault", "add", "add_header") and node.args:
            name = string_value(node.args[0].value)
            if name:
                self.names[name.lower()] = string_value(node.args[1].value) if len(node.args) > 1 else None
        elif func.attr.value in ("update", "extend") and node.args and isinstance(node.args[0].value, cst.Dict):
            for element in node.args[0].value.elements:
                if isinstance(element, cst.DictElement) and string_value(element.key):
                    self.names[string_value(element.key).lower()] = string_value(element.value)


def _after_app_request_hooks(project) -> dict[tuple[str, str], list[cst.FunctionDef]]:
    """(module path, decorator) -> the functions so decorated, for every
    ``@<name>.after_app_request`` in the modules that define blueprints
    (worked out once per project: every app looks them up)."""
    cache = project.__dict__.get("_after_app_request_hooks")
    if cache is not None:
        return cache
    found: dict[tuple[str, str], list[cst.FunctionDef]] = {}
    for path in dict.fromkeys(b.file.path for b in project.blueprints):
        file = project.python[path]

        class B(cst.CSTVisitor):
            def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
                for d in node.decorators:
                    name = dotted_name(d.decorator) or ""
                    if name.endswith(".after_app_request"):
                        found.setdefault((path, name), []).append(node)

        file.module.visit(B())
    project.__dict__["_after_app_request_hooks"] = found
    return found


def after_request_hooks(project, app: AppObject) -> list[cst.FunctionDef]:
    """Functions registered with ``@app.after_request`` (or ``app.after_request(f)``) where the app is built
    or in a function it is handed to, and ``@bp.after_app_request`` anywhere."""
    hooks: list[cst.FunctionDef] = []
    seen: set[int] = set()
    modules = _hook_modules(project)

    def add(function: cst.FunctionDef, facts) -> None:
        modules[id(function)] = facts
        if id(function) not in seen:
            seen.add(id(function))
            hooks.append(function)

    for scope in app_scopes(project, app):
        by_name: dict[str, cst.FunctionDef] = {}
        decorators = {f"{name}.after_request" for name in scope.names}

        class V(cst.CSTVisitor):
            def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
                by_name.setdefault(node.name.value, node)
                for d in node.decorators:
                    if dotted_name(d.decorator) in decorators:
                        add(node, scope.facts)

        scope.node.visit(V())
        for call in scope.calls:
            if dotted_name(call.func) in decorators and call.args:
                target = dotted_name(call.args[0].value) or ""
                function = by_name.get(target) or scope.facts.functions.get(target)
                if function is not None:
                    add(function, scope.facts)
    app_hooks = _after_app_request_hooks(project)
    for blueprint in project.blueprints:
        for function in app_hooks.get((blueprint.file.path, f"{blueprint.name}.after_app_request"), []):
            modules[id(function)] = project.facts_for(blueprint.file.path)
            hooks.append(function)
    return hooks


def _hook_modules(project) -> dict[int, object]:
    """id of a hook ``after_request_hooks`` found -> the facts of its module."""
    return project.__dict__.setdefault("_after_request_hook_modules", {})


def headers_set(hooks, project=None) -> dict[str, str | None]:
    """The headers the hooks set, also in the project's functions and static methods
    they hand the response to (``SecurityHeaders.set_response_headers(response)``)."""
    visitor = _HeaderWrites()
    for hook in hooks:
        hook.visit(visitor)
        for helper in _response_helpers(project, hook) if project is not None else ():
            helper.visit(visitor)
    return visitor.names


def _response_helpers(project, hook: cst.FunctionDef) -> list[cst.FunctionDef]:
    """The project's functions (``set_headers(response)``) and methods of its classes
    (``SecurityHeaders.set_response_headers(response)``) the hook passes its response to."""
    params = hook.params.params
    facts = _hook_modules(project).get(id(hook))
    if facts is None or not params:
        return []
    response = params[0].name.value
    found = []
    for call in calls_in(hook.body):
        if not any(isinstance(a.value, cst.Name) and a.value.value == response for a in call.args):
            continue
        located = _project_function(project, facts, call.func)
        if located is not None:
            found.append(located[0])
        elif isinstance(call.func, cst.Attribute):
            owner = _project_class(project, facts, call.func.value)
            if owner is not None:
                found += [s for s in owner[0].body.body
                          if isinstance(s, cst.FunctionDef) and s.name.value == call.func.attr.value]
    return found


def missing_headers(names: dict[str, str | None]) -> list[str]:
    missing = [h for h in REQUIRED if h not in names]
    csp = names.get("content-security-policy") or ""
    if "x-frame-options" in missing and "frame-ancestors" in csp:
        missing.remove("x-frame-options")
    return missing


def _policy_source(policy: dict[str, list[str]]) -> str:
    lines = []
    for directive, values in policy.items():
        if len(values) == 1:
            lines.append(f'    "{directive}": "{values[0]}",')
        else:
            lines.append(f'    "{directive}": [{", ".join(chr(34) + v + chr(34) for v in values)}],')
    return "{\n" + "\n".join(lines) + "\n}"


def _policy_string(policy: dict[str, list[str]], nonce_in: list[str]) -> str:
    parts = []
    for directive, values in policy.items():
        values = list(values) + (["'nonce-{nonce}'"] if directive in nonce_in else [])
        parts.append(f'    "{directive} {" ".join(values)}; "')
    parts[-1] = parts[-1].replace('; "', '"')
    return "(\n" + "\n".join(parts) + "\n)"


class _Plan:
    """What the templates need: the CSP and the sections that get a nonce."""

    def __init__(self, project, home: str):
        self.templates = templates_under(project, home)  # an app's own, in a repository of services
        assets = collect_assets(project, self.templates)
        self.assets = assets
        self.policy = csp_policy(assets)
        self.nonce_in = [s for s, n in (("script-src", assets.inline_scripts), ("style-src", assets.inline_styles)) if n]
        problems = []
        if assets.event_handlers:
            problems.append("inline event handlers (on...=) in " + ", ".join(sorted(set(assets.event_handlers)))
                            + " are blocked by the CSP: move them to a script file")
        if assets.dynamic_urls:
            problems.append("asset URLs computed at run time may load from hosts the CSP does not list: "
                            + "; ".join(assets.dynamic_urls[:5]))
        self.problems = problems

    def patch_templates(self, builder: ChangeBuilder, project) -> int:
        count = 0
        for path, template in sorted(self.templates.items()):
            if not any(not b.has_nonce for b in inline_blocks(template.text)):
                continue
            text = builder.current(path).decode("utf-8", "surrogateescape").removeprefix("\ufeff")
            new = add_nonces(text)
            if new != text:
                builder.set(path, template.encode(new))
                count += 1
        return count

    def problems_for(self, app: AppObject) -> list[str]:
        """What keeps the CSP from being known to fit ``app``: the templates' problems,
        and templates of the app's that the scan did not read."""
        unseen = _unseen_templates(app)
        return self.problems + ([unseen] if unseen else [])

    def safety_for(self, app: AppObject) -> tuple[Safety, str]:
        problems = self.problems_for(app)
        return (Safety.REVIEW, "; ".join(problems)) if problems else (Safety.SAFE, "")

    def notes(self, builder: ChangeBuilder, app: AppObject) -> None:
        hosts = sorted({v for values in self.policy.values() for v in values if v.startswith("http")})
        builder.note("The Content-Security-Policy allows what the templates load: 'self'"
                     + (", " + ", ".join(hosts) if hosts else "")
                     + (" and per-request nonces for inline " + " and ".join(s[:-4] + "s" for s in self.nonce_in)
                        if self.nonce_in else ""))
        builder.followup(f"In production set {HTTPS_ENV}=1: it redirects http to https and sends HSTS; "
                         f"without it (development, tests, `flask run` on http://127.0.0.1) plain HTTP keeps working")
        for problem in self.problems_for(app):
            builder.followup(problem)


def _unseen_templates(app: AppObject) -> str | None:
    """Why the app's templates may not be the ones the scan read (it reads the
    folders named ``templates``): another ``template_folder``, or a template
    folder or Jinja loader set in the app's module."""
    arg = keyword(app.call, "template_folder")
    if arg is not None:
        folder = string_value(arg.value)
        if folder is None or posixpath.basename(folder.rstrip("/")) != "templates":
            return (f"the app's templates are in template_folder={app.file.code_for(arg.value)}, which hardener does "
                    "not read: check that the CSP allows what they load")
    elif LOADER_SET.search(app.file.data):
        return (f"{app.file.path} sets the app's template folder or Jinja loader in code: check that the CSP "
                "allows what those templates load")
    return None


def _plan(project, app: AppObject) -> _Plan:
    """The plan for the app's templates (``app_home``), worked out once per
    scan and home (every app's fixes ask, and it reads every template)."""
    home = app_home(project, app.file.path)
    plans = project.__dict__.setdefault("_security_headers_plans", {})
    if home not in plans:
        plans[home] = _Plan(project, home)
    return plans[home]


def _ensure_env_switch(builder: ChangeBuilder) -> None:
    """Document the production switch in .env.example (never in .env: a .env
    copied to production must not switch HTTPS off)."""
    from hardener.fixkit import env_keys

    example = (builder.current(".env.example") or b"").decode("utf-8", "replace")
    if HTTPS_ENV not in env_keys(example):
        if example and not example.endswith("\n"):
            example += "\n"
        example += f"{HTTPS_ENV}=1\n"
        builder.set(".env.example", example.encode("utf-8"))


def talisman_fix(project, app: AppObject) -> Fix:
    plan = _plan(project, app)

    def compute():
        builder = ChangeBuilder(project)
        path = app.file.path
        current = parse_unvalidated(builder.current(path))
        prefix = "" if app.name == "app" else app.name.upper() + "_"
        csp_name = unique_name(current, f"{prefix}CSP")
        bound = bound_names(current)
        https_name = "FORCE_HTTPS"  # one switch per module: a second app reuses the first one's
        head = []
        if https_name not in bound:
            head.append(cst.parse_statement(
                f'{https_name} = os.environ.get("{HTTPS_ENV}", "0") == "1"  # production: HTTPS redirect and HSTS\n'))
        head.append(cst.parse_statement(f"{csp_name} = {_policy_source(plan.policy)}\n"))
        kwargs = [f"content_security_policy={csp_name}"]
        if plan.nonce_in:
            kwargs.append(f"content_security_policy_nonce_in={plan.nonce_in!r}".replace("'", '"'))
        kwargs += [f"force_https={https_name}", f"strict_transport_security={https_name}", 'frame_options="DENY"',
                   f'referrer_policy="{REFERRER}"',
                   f'session_cookie_samesite={app.name}.config.get("SESSION_COOKIE_SAMESITE") or "Lax"']
        args = "".join(f"    {k},\n" for k in kwargs)
        name = unique_name(current, "talisman" if app.name == "app" else f"{app.name}_talisman")
        if app.factory is None:
            statement = cst.parse_statement(f"{name} = Talisman(\n    {app.name},\n{args})\n")
            builder.edit_python(path, lambda m: insert_in_scope(insert_after_imports(m, head), app.name, None,
                                                                [statement], after=(r"\.config\b",)))
        else:
            head.append(cst.parse_statement(f"{name} = Talisman()\n"))
            statement = cst.parse_statement(f"{name}.init_app(\n    {app.name},\n{args})\n")
            builder.edit_python(path, lambda m: insert_in_scope(insert_after_imports(m, head), app.name,
                                                                app.factory.name.value, [statement],
                                                                after=(r"\.config\b",)))
        builder.edit_python(path, lambda m: add_imports(m, ("os", None), ("flask_talisman", "Talisman")))
        plan.patch_templates(builder, project)
        _ensure_env_switch(builder)
        builder.dependency("flask-talisman")
        plan.notes(builder, app)
        return builder.build()

    safety, reason = plan.safety_for(app)
    return Fix("Add Flask-Talisman with a CSP computed from the templates", safety, compute, reason)


def _hook_source(app_name: str, names: dict[str, str], csp_name: str, https_name: str, headers: list[str],
                 nonce: bool, with_hsts: bool) -> str:
    """The after_request alternative: a nonce per request, the headers, HTTPS in production."""
    out = []
    lines = []
    for header in headers:
        value = {"content-security-policy": f"{csp_name}.format(nonce=g.get(\"csp_nonce\", \"\"))" if nonce else csp_name,
                 "x-frame-options": '"DENY"', "x-content-type-options": '"nosniff"',
                 "referrer-policy": f'"{REFERRER}"'}[header]
        lines.append(f'    response.headers.setdefault("{REQUIRED[header]}", {value})\n')
    if with_hsts:
        lines.append(f"    if {https_name} and request.is_secure:\n"
                     f'        response.headers.setdefault("Strict-Transport-Security", "{HSTS}")\n')
    before = [f"@{app_name}.before_request\ndef {names['before']}():\n"]
    if nonce:
        before.append('    g.csp_nonce = secrets.token_urlsafe(16)\n')
    if with_hsts:
        before.append(f"    if {https_name} and not request.is_secure and not {app_name}.debug:\n"
                      '        return redirect(request.url.replace("http://", "https://", 1), code=301)\n')
    if len(before) > 1:
        out.append("".join(before))
    if nonce:
        out.append(f'{app_name}.jinja_env.globals["csp_nonce"] = lambda: g.get("csp_nonce", "")\n')
    out.append(f"@{app_name}.after_request\ndef {names['after']}(response):\n" + "".join(lines) + "    return response\n")
    return "\n\n".join(out)


def insert_before_return(module: cst.Module, factory: str, statements: list) -> cst.Module:
    """Put statements at the end of the factory, before its final ``return``."""
    done = []

    class T(cst.CSTTransformer):
        def leave_FunctionDef(self, original, updated):
            if done or original.name.value != factory or not isinstance(updated.body, cst.IndentedBlock):
                return updated
            body = list(updated.body.body)
            at = len(body)
            if body and isinstance(body[-1], cst.SimpleStatementLine) and isinstance(body[-1].body[0], cst.Return):
                at -= 1
                body[-1] = body[-1].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
            done.append(True)
            return updated.with_changes(body=updated.body.with_changes(body=body[:at] + statements + body[at:]))

    out = module.visit(T())
    if not done:
        raise FixError(f"could not find the factory {factory}()")
    return out


def after_request_fix(project, app: AppObject) -> Fix:
    plan = _plan(project, app)

    def compute():
        builder = ChangeBuilder(project)
        path = app.file.path
        current = parse_unvalidated(builder.current(path))
        prefix = "" if app.name == "app" else app.name.upper() + "_"
        csp_name = unique_name(current, f"{prefix}CSP")
        bound = bound_names(current)
        https_name = "FORCE_HTTPS"  # one switch per module: a second app reuses the first one's
        names = {"before": unique_name(current, f"{prefix.lower()}https_and_csp_nonce"),
                 "after": unique_name(current, f"{prefix.lower()}set_security_headers")}
        nonce = bool(plan.nonce_in)
        head = []
        if https_name not in bound:
            head.append(cst.parse_statement(
                f'{https_name} = os.environ.get("{HTTPS_ENV}", "0") == "1"  # production: HTTPS redirect and HSTS\n'))
        policy = plan.policy if nonce else plan.policy
        csp_text = _policy_string(policy, plan.nonce_in) if nonce else _policy_string(policy, []).replace("{nonce}", "")
        head.append(cst.parse_statement(f"{csp_name} = {csp_text}\n"))
        code = _hook_source(app.name, names, csp_name, https_name, list(REQUIRED), nonce, True)
        factory = app.factory.name.value if app.factory is not None else None
        blank = [cst.EmptyLine(indent=False)] * (1 if factory else 2)
        statements = [st.with_changes(leading_lines=blank) for st in cst.parse_module(code).body]
        if factory:
            builder.edit_python(path, lambda m: insert_before_return(insert_after_imports(m, head), factory, statements))
        else:
            builder.edit_python(path, lambda m: insert_in_scope(insert_after_imports(m, head), app.name, None,
                                                                statements, after=(r"\.config\b",)))
        imports = [("os", None), ("flask", "request"), ("flask", "redirect")]
        if nonce:
            imports += [("secrets", None), ("flask", "g")]
        builder.edit_python(path, lambda m: add_imports(m, *imports))
        plan.patch_templates(builder, project)
        _ensure_env_switch(builder)
        plan.notes(builder, app)
        return builder.build()

    safety, reason = plan.safety_for(app)
    return Fix("Set the security headers in an after_request hook (no new dependency)", safety, compute, reason)


def extend_hook_fix(project, app: AppObject, hook: cst.FunctionDef, file, missing: list[str]) -> Fix:
    """Partial header sets: add what is missing to the app's own hook."""
    plan = _plan(project, app)
    params = hook.params.params
    if not params:
        return None
    response = params[0].name.value

    def compute():
        builder = ChangeBuilder(project)
        nonce = "content-security-policy" in missing and bool(plan.nonce_in)
        lines = []
        for header in missing:
            if header == "content-security-policy":
                value = '"' + "; ".join(
                    f"{d} {' '.join(list(v) + (['{nonce}'] if nonce and d in plan.nonce_in else []))}"
                    for d, v in plan.policy.items()).replace("{nonce}", "'nonce-{nonce}'") + '"'
                if nonce:
                    value = f'{value}.format(nonce=g.get("csp_nonce", ""))'
            else:
                value = {"x-frame-options": '"DENY"', "x-content-type-options": '"nosniff"',
                         "referrer-policy": f'"{REFERRER}"'}[header]
            lines.append(cst.parse_statement(f'{response}.headers.setdefault("{REQUIRED[header]}", {value})\n'))

        def transform(module: cst.Module) -> cst.Module:
            done = []

            class T(cst.CSTTransformer):
                def leave_FunctionDef(self, original, updated):
                    if original is not hook or not isinstance(updated.body, cst.IndentedBlock):
                        return updated
                    body = list(updated.body.body)
                    at = len(body)
                    if body and isinstance(body[-1], cst.SimpleStatementLine) and isinstance(body[-1].body[0], cst.Return):
                        at = len(body) - 1
                    done.append(True)
                    return updated.with_changes(body=updated.body.with_changes(body=body[:at] + lines + body[at:]))

            out = module.visit(T())
            if not done:
                raise FixError("could not find the after_request hook")
            return out

        builder.edit_python(file.path, transform, file=file)
        if nonce:
            scope_app = app.name
            extra = list(cst.parse_module(
                f"@{scope_app}.before_request\ndef _csp_nonce():\n    g.csp_nonce = secrets.token_urlsafe(16)\n\n\n"
                f'{scope_app}.jinja_env.globals["csp_nonce"] = lambda: g.get("csp_nonce", "")\n').body)
            factory = app.factory.name.value if app.factory is not None else None
            builder.edit_python(app.file.path, lambda m: insert_in_scope(m, app.name, factory, extra))
            builder.edit_python(app.file.path, lambda m: add_imports(m, ("secrets", None), ("flask", "g")))
            plan.patch_templates(builder, project)
        builder.edit_python(file.path, lambda m: add_imports(m, ("flask", "g")) if nonce else m)
        plan.notes(builder, app)
        return builder.build()

    safety, reason = plan.safety_for(app)
    return Fix(f"Add {', '.join(REQUIRED[h] for h in missing)} to `{hook.name.value}`", safety, compute, reason)


@register
class SecurityHeadersMissing(Rule):
    """Responses go out without the browser's security headers.

    ## What it does
    Finds Flask apps without Flask-Talisman and without an `after_request`
    hook that sets `Content-Security-Policy`, `X-Frame-Options` (or CSP
    `frame-ancestors`), `X-Content-Type-Options` and `Referrer-Policy`. A hook
    that sets only some of them is reported for what is missing.

    ## Why is this bad?
    Without a Content-Security-Policy an injected `<script>` runs with the
    user's session; without `X-Frame-Options` another site can frame the app
    and trick users into clicking (clickjacking); without `nosniff` browsers
    may run uploaded files as scripts; without a Referrer-Policy URLs with
    tokens leak to other sites. Without an HTTPS redirect and HSTS, the first
    request can be intercepted.

    ## Example
    ```python
    app = Flask(__name__)
    ```

    ## Use instead
    ```python
    FORCE_HTTPS = os.environ.get("FORCE_HTTPS", "0") == "1"
    CSP = {"default-src": "'self'", "script-src": ["'self'", "https://cdn.jsdelivr.net"], ...}

    app = Flask(__name__)
    talisman = Talisman(app, content_security_policy=CSP,
                        content_security_policy_nonce_in=["script-src"],
                        force_https=FORCE_HTTPS, strict_transport_security=FORCE_HTTPS,
                        frame_options="DENY")
    ```
    with `<script nonce="{{ csp_nonce() }}">` on inline scripts. The policy is
    computed from what the templates really load: the hosts of `<script src>`,
    stylesheets (and the fonts they load), images, frames and form actions.
    With `headers-fix = "after_request"` in `[tool.hardener]` (or
    `--headers-fix after_request`), or by choosing the other fix in the
    review, the fix writes an `after_request` hook that sets the same headers,
    without a new dependency.

    ## Fix safety
    Safe when every asset URL in the templates can be read: inline scripts and
    styles get nonces, `style="..."` attributes stay allowed through
    `style-src-attr`. Review when templates use inline event handlers
    (`onclick=`) or asset URLs computed at run time, which the policy may
    block, and when the app's templates are not the ones the scan read (the
    folders named `templates`): `Flask(__name__, template_folder="ui/dist")`,
    or `app.template_folder = ...` / `app.jinja_loader = ...` in its module.
    The HTTPS redirect and HSTS only apply with `FORCE_HTTPS=1` (set it in
    production), so development over http://127.0.0.1 keeps working.

    ## References
    - https://github.com/wntrblm/flask-talisman
    - https://developer.mozilla.org/en-US/docs/Web/HTTP/CSP
    - https://owasp.org/www-project-secure-headers/
    - CWE-693: Protection Mechanism Failure
    """

    code = "H211"
    name = "security-headers-missing"
    category = "headers"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    cwe = 693

    VALID = [
        "from flask import Flask\nfrom flask_talisman import Talisman\napp = Flask(__name__)\nTalisman(app)\n",
        "from flask import Flask\napp = Flask(__name__)\n\n@app.after_request\ndef headers(resp):\n"
        "    resp.headers['Content-Security-Policy'] = \"default-src 'self'; frame-ancestors 'none'\"\n"
        "    resp.headers['X-Content-Type-Options'] = 'nosniff'\n"
        "    resp.headers['Referrer-Policy'] = 'no-referrer'\n    return resp\n",
    ]
    INVALID = [
        Example(
            {
                "app.py": "from flask import Flask, render_template\n\napp = Flask(__name__)\n\n\n@app.route('/')\n"
                          "def index():\n    return render_template('index.html')\n",
                "templates/index.html": "<html>\n<head>\n  <script src=\"https://cdn.example.org/lib.js\"></script>\n"
                                        "</head>\n<body>\n  <script>\n    start();\n  </script>\n</body>\n</html>\n",
                "requirements.txt": "flask\n",
            },
            {
                "app.py": "from flask import Flask, render_template\nimport os\nfrom flask_talisman import Talisman\n\n"
                          "FORCE_HTTPS = os.environ.get(\"FORCE_HTTPS\", \"0\") == \"1\"  # production: HTTPS redirect and HSTS\n"
                          "CSP = {\n    \"default-src\": \"'self'\",\n"
                          "    \"script-src\": [\"'self'\", \"https://cdn.example.org\"],\n"
                          "    \"style-src\": \"'self'\",\n    \"img-src\": \"'self'\",\n    \"font-src\": \"'self'\",\n"
                          "    \"object-src\": \"'none'\",\n    \"base-uri\": \"'self'\",\n"
                          "    \"frame-ancestors\": \"'none'\",\n    \"form-action\": \"'self'\",\n}\n\n"
                          "app = Flask(__name__)\ntalisman = Talisman(\n    app,\n    content_security_policy=CSP,\n"
                          "    content_security_policy_nonce_in=[\"script-src\"],\n    force_https=FORCE_HTTPS,\n"
                          "    strict_transport_security=FORCE_HTTPS,\n    frame_options=\"DENY\",\n"
                          "    referrer_policy=\"strict-origin-when-cross-origin\",\n"
                          "    session_cookie_samesite=app.config.get(\"SESSION_COOKIE_SAMESITE\") or \"Lax\",\n)\n\n\n"
                          "@app.route('/')\ndef index():\n    return render_template('index.html')\n",
                "templates/index.html": "<html>\n<head>\n  <script src=\"https://cdn.example.org/lib.js\"></script>\n"
                                        "</head>\n<body>\n  <script nonce=\"{{ csp_nonce() }}\">\n    start();\n  </script>\n"
                                        "</body>\n</html>\n",
                "requirements.txt": "flask\nflask-talisman>=1.1\n",
                ".env.example": "FORCE_HTTPS=1\n",
            },
        ),
        # a hook that sets some of the headers: the rest is added there
        Example(
            "from flask import Flask\napp = Flask(__name__)\n\n@app.after_request\ndef headers(resp):\n"
            "    resp.headers['X-Frame-Options'] = 'DENY'\n    return resp\n"
            "\n@app.route('/')\ndef index():\n    return 'hi'\n",
            "from flask import Flask\napp = Flask(__name__)\n\n@app.after_request\ndef headers(resp):\n"
            "    resp.headers['X-Frame-Options'] = 'DENY'\n"
            "    resp.headers.setdefault(\"Content-Security-Policy\", \"default-src 'self'; script-src 'self'; "
            "style-src 'self'; img-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
            "frame-ancestors 'none'; form-action 'self'\")\n"
            "    resp.headers.setdefault(\"X-Content-Type-Options\", \"nosniff\")\n"
            "    resp.headers.setdefault(\"Referrer-Policy\", \"strict-origin-when-cross-origin\")\n    return resp\n"
            "\n@app.route('/')\ndef index():\n    return 'hi'\n",
        ),
    ]

    def check_project(self, project):
        mode = getattr(project.config, "headers_fix", "talisman") if project.config is not None else "talisman"
        apps = production_apps(project)
        if not apps or (not project.templates and not any(True for _ in all_views(project))):
            return  # nothing served that we can see (no routes, no templates)
        for app in apps:
            if app_uses_extension(project, app, TALISMAN_CLASSES):
                continue
            hooks = after_request_hooks(project, app)
            names = headers_set(hooks, project)
            missing = missing_headers(names)
            if not missing:
                continue
            present = [REQUIRED[h] for h in REQUIRED if h in names]
            if present and hooks:
                hook = next(h for h in hooks if headers_set([h], project))
                file = self._file_of(project, hook)
                fix = extend_hook_fix(project, app, hook, file, missing) if file is not None else None
                yield self.finding(
                    app.file, app.statement,
                    f"`{hook.name.value}` sets {', '.join(present)} but not "
                    f"{', '.join(REQUIRED[h] for h in missing)}", fix,
                )
                continue
            talisman, hook = talisman_fix(project, app), after_request_fix(project, app)
            fix, fix.alternative = (hook, talisman) if mode == "after_request" else (talisman, hook)
            yield self.finding(
                app.file, app.statement,
                f"Flask app `{app.name}` sends no Content-Security-Policy, X-Frame-Options, X-Content-Type-Options "
                "or Referrer-Policy header, and does not force HTTPS",
                fix,
            )

    @staticmethod
    def _file_of(project, node):
        for facts in project.facts.values():
            try:
                facts.file.position(node)
            except KeyError:
                continue
            return facts.file
        return None
