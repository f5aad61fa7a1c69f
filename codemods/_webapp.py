"""Helpers shared by the CSRF, security-header and cookie rules (H2xx): what
the templates post and load, which extensions an app already uses, where a
fix puts new code in an app's module or factory.

Templates are edited as text (their own indentation and newline style);
Python is edited with libcst. Not a rule module: nothing here is registered.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

import libcst as cst

from hardener.fixkit import Pruned, only_towards
from hardener.models import FixError
from hardener.project import AppObject, ModuleFacts, dotted_name, is_test_path, module_name_for, string_value
from hardener.source import ParseError

from ._flaskapi import ROUTE_METHODS, calls_in, call_name, facts_or_imports, flask_apps, module_level_instances
from ._flow import functions_in

# --------------------------------------------------------------------------- HTML tags in Jinja templates

# A start tag whose attributes may hold quoted strings and Jinja expressions (which may contain ">").
_ATTRS = r"""(?:[^>"'{]|"[^"]*"|'[^']*'|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{)*"""


def _tag(name: str) -> re.Pattern:
    return re.compile(rf"<{name}\b({_ATTRS})>", re.I | re.S)


FORM_TAG = _tag("form")
SCRIPT_TAG = _tag("script")
STYLE_TAG = _tag("style")
LINK_TAG = _tag("link")
IMG_TAG = _tag("img")
IFRAME_TAG = _tag("iframe")
SOURCE_TAG = _tag("(?:source|video|audio)")
HEAD_TAG = _tag("head")
ATTR = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""", re.S)
JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.S)
STYLE_ATTR = re.compile(r"<[a-zA-Z][^>]*?\sstyle\s*=", re.S)

TOKEN_INPUT = '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">'
TOKEN_META = '<meta name="csrf-token" content="{{ csrf_token() }}">'
NONCE_ATTR = ' nonce="{{ csp_nonce() }}"'
# What counts as "this form already sends a token" (Flask-WTF's macros included).
FORM_HAS_TOKEN = re.compile(r"csrf_token|hidden_tag\s*\(|csrf", re.I)
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def attributes(attrs: str) -> dict[str, str]:
    """Attributes of a start tag; Jinja blocks are kept in values, dropped elsewhere."""
    out: dict[str, str] = {}
    masked = JINJA_BLOCK.sub(lambda m: "\0" * len(m.group(0)), attrs)
    for m in ATTR.finditer(masked):
        name = m.group(1).lower()
        if "\0" in name:
            continue
        raw = attrs[m.start(2):m.end(2)] if m.group(2) is not None else ""
        if raw[:1] in ("'", '"'):
            raw = raw[1:-1]
        out.setdefault(name, raw)
    return out


def _indent_of_line(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _indent_unit(text: str) -> str:
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if stripped and line != stripped:
            indent = line[: len(line) - len(stripped)]
            return "\t" if indent.startswith("\t") else " " * min(len(indent), 4)
    return "  "


@dataclass
class PostForm:
    start: int  # offset of "<form"
    end: int  # offset just after the start tag's ">"
    has_token: bool


def post_forms(text: str) -> list[PostForm]:
    out = []
    for m in FORM_TAG.finditer(text):
        attrs = attributes(m.group(1))
        method = JINJA_BLOCK.sub("", attrs.get("method", "")).strip().lower()
        if method != "post":
            continue
        close = re.compile(r"</form\s*>", re.I).search(text, m.end())
        body = text[m.end(): close.start() if close else len(text)]
        out.append(PostForm(m.start(), m.end(), bool(FORM_HAS_TOKEN.search(body))))
    return out


def add_form_tokens(text: str, newline: str) -> str:
    """Insert the hidden token input into every POST form that lacks one,
    indented like the form's own content."""
    unit = _indent_unit(text)
    for form in reversed(post_forms(text)):
        if form.has_token:
            continue
        rest = text[form.end:]
        line_end = rest.find("\n")
        same_line = rest[: line_end if line_end >= 0 else len(rest)]
        if same_line.strip().rstrip("\r"):
            # content follows on the same line: keep the form on one line
            text = text[: form.end] + TOKEN_INPUT + text[form.end:]
            continue
        after = rest[line_end + 1:] if line_end >= 0 else ""
        next_line = after.split("\n", 1)[0].rstrip("\r")
        if next_line.strip() and not next_line.strip().lower().startswith("</form"):
            indent = next_line[: len(next_line) - len(next_line.lstrip(" \t"))]
        else:
            indent = _indent_of_line(text, form.start) + unit
        text = text[: form.end] + newline + indent + TOKEN_INPUT + text[form.end:]
    return text


def add_csrf_meta(text: str, newline: str) -> str:
    """The token as a meta tag in ``<head>`` (for JavaScript that posts)."""
    if re.search(r"""<meta\b[^>]*name\s*=\s*["']csrf-token""", text, re.I):
        return text
    m = HEAD_TAG.search(text)
    if m is None:
        return text
    charset = re.compile(r"<meta\b[^>]*charset[^>]*>", re.I).search(text, m.end())
    anchor = charset.end() if charset and text.count("\n", m.end(), charset.start()) <= 1 else m.end()
    rest = text[anchor:]
    next_line = rest.split("\n", 2)[1] if rest.startswith(("\n", "\r\n")) and rest.count("\n") >= 1 else ""
    next_line = next_line.rstrip("\r")
    if next_line.strip():
        indent = next_line[: len(next_line) - len(next_line.lstrip(" \t"))]
    else:
        indent = _indent_of_line(text, m.start()) + _indent_unit(text)
    return text[:anchor] + newline + indent + TOKEN_META + text[anchor:]


@dataclass
class InlineBlock:
    kind: str  # script | style
    tag_end: int  # offset of the start tag's ">"
    has_nonce: bool


def inline_blocks(text: str) -> list[InlineBlock]:
    out = []
    for kind, pattern in (("script", SCRIPT_TAG), ("style", STYLE_TAG)):
        for m in pattern.finditer(text):
            attrs = attributes(m.group(1))
            if kind == "script" and "src" in attrs:
                continue
            out.append(InlineBlock(kind, m.end() - 1, "nonce" in attrs))
    return sorted(out, key=lambda b: b.tag_end)


def add_nonces(text: str) -> str:
    for block in reversed(inline_blocks(text)):
        if not block.has_nonce:
            end = block.tag_end
            # keep a self-consistent tag: `<script>` -> `<script nonce="...">`
            text = text[:end] + NONCE_ATTR + text[end:]
    return text


# --------------------------------------------------------------------------- JavaScript that posts

FETCH = re.compile(r"\bfetch\s*\(")
OTHER_POSTS = re.compile(r"""XMLHttpRequest|\$\.(?:post|ajax)\s*\(|jQuery\.(?:post|ajax)\s*\(|axios\.(?:post|put|patch|delete)\s*\(""")
METHOD_KEY = re.compile(r"""\bmethod\s*:\s*["'`](post|put|patch|delete)["'`]""", re.I)
HEADER_EXPR = "document.querySelector('meta[name=\"csrf-token\"]').content"


def _matching(text: str, start: int, open_ch: str, close_ch: str) -> int | None:
    """Offset of the bracket closing the one at ``start`` (strings skipped)."""
    depth = 0
    i = start
    quote = None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i if ch == close_ch else None
        i += 1
    return None


def _top_level_comma(text: str, start: int, end: int) -> int | None:
    depth = 0
    quote = None
    i = start
    while i < end:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            return i
        i += 1
    return None


@dataclass
class JsPosts:
    patched: str  # the text with every clear fetch() call sending the header
    patched_calls: int = 0
    unclear: list[str] = field(default_factory=list)  # descriptions of calls left alone


def patch_js_posts(text: str) -> JsPosts:
    """Add the X-CSRFToken header to ``fetch(url, {method: "POST", ...})`` calls."""
    result = JsPosts(text)
    edits: list[tuple[int, str]] = []
    for m in FETCH.finditer(text):
        open_paren = m.end() - 1
        close = _matching(text, open_paren, "(", ")")
        if close is None:
            continue
        comma = _top_level_comma(text, open_paren + 1, close)
        if comma is None:
            continue  # fetch(url): a GET
        options = text[comma + 1:close].strip()
        if not options.startswith("{"):
            if METHOD_KEY.search(options) or not re.fullmatch(r"[\w.$]+", options):
                result.unclear.append(f"fetch(...) with options built elsewhere ({options[:40]})")
            else:
                result.unclear.append(f"fetch(..., {options}): options built elsewhere")
            continue
        brace = text.index("{", comma)
        brace_end = _matching(text, brace, "{", "}")
        if brace_end is None:
            continue
        body = text[brace + 1:brace_end]
        if not METHOD_KEY.search(body):
            continue
        if "X-CSRFToken" in body:
            continue
        headers = re.search(r"\bheaders\s*:\s*", body)
        if headers is None:
            space = "" if body[:1].isspace() else " "
            edits.append((brace + 1, f' headers: {{ "X-CSRFToken": {HEADER_EXPR} }},{space}'))
        elif body[headers.end():headers.end() + 1] == "{":
            at = brace + 1 + headers.end() + 1
            space = "" if body[headers.end() + 1:headers.end() + 2].isspace() else " "
            edits.append((at, f' "X-CSRFToken": {HEADER_EXPR},{space}'))
        else:
            result.unclear.append("fetch(...) with headers built elsewhere")
            continue
    for at, insert in sorted(edits, reverse=True):
        text = text[:at] + insert + text[at:]
    result.patched = text
    result.patched_calls = len(edits)
    for m in OTHER_POSTS.finditer(text):
        result.unclear.append(m.group(0).rstrip("( "))
    return result


def js_posts(text: str) -> bool:
    """Does this script send state-changing requests?"""
    if OTHER_POSTS.search(text):
        return True
    for m in FETCH.finditer(text):
        close = _matching(text, m.end() - 1, "(", ")")
        if close is not None and METHOD_KEY.search(text[m.end():close]):
            return True
    return False


# --------------------------------------------------------------------------- assets the pages load

CONNECT_URL = re.compile(
    r"""(?:fetch\s*\(|\.open\s*\(\s*["'][A-Za-z]+["']\s*,|new\s+(?:WebSocket|EventSource)\s*\(|axios\.\w+\s*\()"""
    r"""\s*["'`]((?:https?|wss?)://[^"'`\s/]+)""")
STATIC_URL = re.compile(r"""url_for\(\s*['"]static['"]\s*,\s*filename\s*=\s*['"]([^'"]+)['"]""")
CSP_DIRECTIVES = ("script-src", "style-src", "img-src", "font-src", "connect-src", "frame-src", "media-src", "form-action")


def static_dir_for(template_path: str) -> str:
    """``pkg/templates/x.html`` -> ``pkg/static``."""
    base = template_path.rsplit("/templates/", 1)[0] if "/templates/" in template_path else ""
    return posixpath.join(base, "static") if base else "static"


def origin_of(url: str) -> str | None:
    """The CSP source for an absolute URL, None for same-origin ones."""
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    if not re.match(r"^https?://", url, re.I):
        return None
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@dataclass
class Assets:
    sources: dict[str, set[str]] = field(default_factory=lambda: {d: set() for d in CSP_DIRECTIVES})
    inline_scripts: int = 0
    inline_styles: int = 0
    style_attributes: bool = False
    event_handlers: list[str] = field(default_factory=list)  # template paths
    dynamic_urls: list[str] = field(default_factory=list)  # src/href values we cannot resolve
    static_files: set[str] = field(default_factory=set)  # paths of static files the pages load

    def add(self, directive: str, url: str, template_path: str) -> None:
        value = url.strip()
        static = STATIC_URL.search(value)
        if static:
            self.static_files.add(posixpath.join(static_dir_for(template_path), static.group(1)))
            return
        if value.lower().startswith("data:"):
            self.sources[directive].add("data:")
            return
        if "{{" in value and not re.match(r"^\s*(https?:)?//", value):
            if not re.match(r"^\{\{\s*url_for\(", value):
                self.dynamic_urls.append(f"{template_path}: {value}")
            return
        origin = origin_of(value)
        if origin:
            self.sources[directive].add(origin)


def app_home(project, path: str) -> str:
    """The folder that holds an app's code and, as a rule, its templates and
    tests: the one above the top package of ``path`` ("" for the project's
    root). In a repository of several services, a fix edits its own service's."""
    folder = posixpath.dirname(path)
    while folder and f"{folder}/__init__.py" in project.python:
        folder = posixpath.dirname(folder)
    return folder


def in_home(path: str, home: str) -> bool:
    """Whether ``path`` is in ``home`` (an ``app_home``; everything is in the root's)."""
    return not home or path.startswith(home + "/")


def templates_under(project, home: str) -> dict:
    """The project's templates in ``home`` (all of them for the root)."""
    return {p: t for p, t in project.templates.items() if in_home(p, home)}


def collect_assets(project, templates=None) -> Assets:
    assets = Assets()
    templates = project.templates if templates is None else templates
    for path, template in sorted(templates.items()):
        text = template.text
        for m in SCRIPT_TAG.finditer(text):
            src = attributes(m.group(1)).get("src")
            if src is not None:
                assets.add("script-src", src, path)
        for m in LINK_TAG.finditer(text):
            attrs = attributes(m.group(1))
            rel = attrs.get("rel", "").lower().split()
            href = attrs.get("href")
            if href is None:
                continue
            if "stylesheet" in rel:
                assets.add("style-src", href, path)
                origin = origin_of(href)
                if origin:
                    # a stylesheet loads its fonts and pictures from where it lives (and data: URIs)
                    assets.sources["font-src"].add(origin)
                    assets.sources["img-src"].add("data:")
                    if "fonts.googleapis.com" in origin:
                        assets.sources["font-src"].add("https://fonts.gstatic.com")
            elif "icon" in rel or "apple-touch-icon" in rel:
                assets.add("img-src", href, path)
            elif "preload" in rel or "modulepreload" in rel:
                kind = {"font": "font-src", "style": "style-src", "script": "script-src", "image": "img-src"}.get(
                    attrs.get("as", "").lower(), "script-src" if "modulepreload" in rel else None)
                if kind:
                    assets.add(kind, href, path)
        for m in IMG_TAG.finditer(text):
            src = attributes(m.group(1)).get("src")
            if src is not None:
                assets.add("img-src", src, path)
        for m in IFRAME_TAG.finditer(text):
            src = attributes(m.group(1)).get("src")
            if src is not None:
                assets.add("frame-src", src, path)
        for m in SOURCE_TAG.finditer(text):
            src = attributes(m.group(1)).get("src")
            if src is not None:
                assets.add("media-src", src, path)
        for m in FORM_TAG.finditer(text):
            action = attributes(m.group(1)).get("action")
            if action is not None:
                assets.add("form-action", action, path)
        for block in inline_blocks(text):
            if block.kind == "script":
                assets.inline_scripts += 1
            else:
                assets.inline_styles += 1
        if STYLE_ATTR.search(JINJA_BLOCK.sub("", text)):
            assets.style_attributes = True
        if EVENT_HANDLER.search(JINJA_BLOCK.sub("", text)):
            assets.event_handlers.append(path)
    # hosts that scripts call (fetch, XMLHttpRequest, WebSocket, EventSource): connect-src
    scripts = [t.text for p, t in templates.items()]
    for path in sorted(assets.static_files):
        if path.endswith(".js") and not path.endswith(".min.js"):
            data = project.workspace.read(path)
            if data:
                scripts.append(data.decode("utf-8", "replace"))
    for text in scripts:
        for m in CONNECT_URL.finditer(text):
            origin = origin_of(m.group(1).replace("wss://", "https://").replace("ws://", "http://"))
            if origin:
                scheme = "wss://" if m.group(1).startswith("wss://") else "ws://" if m.group(1).startswith("ws://") else ""
                assets.sources["connect-src"].add(scheme + origin.split("://", 1)[1] if scheme else origin)
    # what the static stylesheets load
    for path in sorted(assets.static_files):
        if not path.endswith(".css"):
            continue
        data = project.workspace.read(path)
        if not data:
            continue
        css = data.decode("utf-8", "replace")
        for m in re.finditer(r"@import\s+(?:url\()?\s*['\"]?([^'\")\s;]+)", css):
            origin = origin_of(m.group(1))
            if origin:
                assets.sources["style-src"].add(origin)
        for m in re.finditer(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css):
            url = m.group(1)
            before = css[: m.start()]
            in_font_face = before.rfind("@font-face") > before.rfind("}")
            directive = "font-src" if in_font_face or re.search(r"\.(woff2?|ttf|otf|eot)(\?|#|$)", url) else "img-src"
            if url.startswith("data:"):
                assets.sources[directive].add("data:")
            elif origin_of(url):
                assets.sources[directive].add(origin_of(url))
    return assets


def csp_policy(assets: Assets) -> dict[str, list[str]]:
    """A CSP allowing exactly what the templates load (nonces are added by the caller)."""
    policy: dict[str, list[str]] = {"default-src": ["'self'"]}
    for directive in ("script-src", "style-src", "img-src", "font-src", "connect-src", "frame-src", "media-src"):
        extra = sorted(assets.sources[directive])
        if extra or directive in ("script-src", "style-src", "img-src", "font-src"):
            policy[directive] = ["'self'"] + extra
    if assets.style_attributes:
        policy["style-src-attr"] = ["'unsafe-inline'"]
    policy["object-src"] = ["'none'"]
    policy["base-uri"] = ["'self'"]
    policy["frame-ancestors"] = ["'none'"]
    policy["form-action"] = ["'self'"] + sorted(assets.sources["form-action"])
    return policy


# --------------------------------------------------------------------------- extensions an app uses

CSRF_CLASSES = {"flask_wtf.csrf.CSRFProtect", "flask_wtf.CSRFProtect", "flask_wtf.csrf.CsrfProtect", "flask_wtf.CsrfProtect"}
TALISMAN_CLASSES = {"flask_talisman.Talisman", "flask_talisman.talisman.Talisman"}
SEASURF_CLASSES = {"flask_seasurf.SeaSurf"}


def app_scope(app: AppObject) -> cst.CSTNode:
    return app.factory if app.factory is not None else app.file.module


@dataclass(eq=False)
class AppScope:
    """Code that works on an app: where it is built (its factory, or its module)
    or a function it is handed to (``register_extensions(app)``), with the facts
    that qualify names there and the name the app has there."""

    node: cst.CSTNode
    facts: ModuleFacts
    name: str
    function: cst.FunctionDef | None  # None: the module that builds the app
    calls: list[cst.Call] = field(default_factory=list)
    aliases: tuple[str, ...] = ()  # app = flask_app = Flask(...)

    @cached_property
    def names(self) -> set[str]:
        return {self.name, *self.aliases}

    def holds(self, node: cst.BaseExpression) -> bool:
        """Whether ``node`` is the app here (``app``, or ``self.app`` in a class)."""
        return dotted_name(node) in self.names


_HELPER_DEPTH = 3  # register_extensions(app) -> init_security(app) -> ... followed this deep


def app_scopes(project, app: AppObject) -> list[AppScope]:
    """Where ``app`` is worked on: the code that builds it, then every project
    function it is passed to (by position or keyword, defined in the same
    module or imported from another one), and the functions those pass it to,
    a few calls deep. Application factories commonly hand the app to
    ``register_extensions(app)``, ``configure_app(app)`` helpers."""
    cache = project.__dict__.setdefault("_app_scopes", {})
    if id(app) in cache:
        return cache[id(app)]
    facts = project.facts_for(app.file.path)
    out: list[AppScope] = []
    if facts is not None:
        first = AppScope(app_scope(app), facts, app.name, app.factory, aliases=app.aliases)
        out.append(first)
        seen = {id(first.node)}
        todo = [(first, 0)]
        while todo:
            scope, depth = todo.pop(0)
            scope.calls = calls_in(scope.node)
            if depth == _HELPER_DEPTH:
                continue
            for call in scope.calls:
                helper = _helper_scope(project, scope, call)
                if helper is not None and id(helper.node) not in seen:
                    seen.add(id(helper.node))
                    out.append(helper)
                    todo.append((helper, depth + 1))
    cache[id(app)] = out
    return out


def _helper_scope(project, scope: AppScope, call: cst.Call) -> AppScope | None:
    """The function ``call`` hands the app to, as a scope, if it is the project's own;
    or the project's own class it hands the app to (``SupersetAppInitializer(app)``),
    the app being the attribute its ``__init__`` keeps it in (``self.superset_app``)."""
    position = keyword = None
    for i, arg in enumerate(call.args):
        if arg.star:
            return None  # positions after a *args are unknown
        if scope.holds(arg.value):
            position, keyword = (i, None) if arg.keyword is None else (None, arg.keyword.value)
            break
    else:
        return None
    located = _project_function(project, scope.facts, call.func)
    if located is None:
        func = call.func
        if isinstance(func, cst.Call) and isinstance(func.func, cst.Attribute) and func.func.attr.value == "get" \
                and len(func.args) == 2 and all(a.keyword is None and not a.star for a in func.args):
            func = func.args[1].value  # config.get("APP_INITIALIZER", SupersetAppInitializer)(app): the default
        located = _project_class(project, scope.facts, func)
        if located is None:
            return None
        cls, facts = located
        init = next((s for s in cls.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)
        param = _param(init, keyword, None if position is None else position + 1) if init is not None else None
        kept = _kept_as(init, param) if param is not None else None
        return AppScope(cls, facts, f"self.{kept}", None) if kept is not None else None
    function, facts = located
    param = _param(function, keyword, position)
    return AppScope(function, facts, param, function) if param is not None else None


def _param(function: cst.FunctionDef, keyword: str | None, position: int | None) -> str | None:
    """The name of the parameter an argument given by keyword or position binds."""
    params = function.params
    if keyword is not None:
        candidates = [p for p in (*params.posonly_params, *params.params, *params.kwonly_params) if p.name.value == keyword]
    else:
        positional = [*params.posonly_params, *params.params]
        candidates = positional[position:position + 1]
    return candidates[0].name.value if candidates else None


def _kept_as(init: cst.FunctionDef, param: str) -> str | None:
    """``self.<attr> = param`` in ``__init__``'s own statements: the attribute's name."""
    for stmt in init.body.body if isinstance(init.body, cst.IndentedBlock) else ():
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1 \
                    and isinstance(small.value, cst.Name) and small.value.value == param:
                target = dotted_name(small.targets[0].target) or ""
                if target.startswith("self.") and target.count(".") == 1:
                    return target[5:]
    return None


def _project_class(project, facts: ModuleFacts, func: cst.BaseExpression):
    """(the module-level class ``func`` names, the facts of its module), or None."""
    qualified = facts.qualify(func) or ""
    module, _, name = qualified.rpartition(".")
    if module and not facts.imported(dotted_name(func) or ""):
        return None  # an attribute of a local object
    path = project.find_module(module) if module else facts.file.path
    if path is None or is_test_path(path):
        return None
    try:
        other = facts_or_imports(project, project.python[path]) if path != facts.file.path else facts
        found = [s for s in other.file.module.body if isinstance(s, cst.ClassDef) and s.name.value == name]
    except ParseError:
        return None
    return (found[-1], other) if found else None


def _project_function(project, facts: ModuleFacts, func: cst.BaseExpression):
    """(the module-level function ``func`` names, the facts of its module), or None."""
    if isinstance(func, cst.Name) and func.value in facts.functions:
        return facts.functions[func.value], facts
    qualified = facts.qualify(func) or ""
    module, _, name = qualified.rpartition(".")
    path = project.find_module(module) if module and facts.imported(dotted_name(func) or "") else None
    if path is None or path == facts.file.path or is_test_path(path):
        return None
    try:
        other = facts_or_imports(project, project.python[path])
        found = top_level_function(other.file.module, name)
    except ParseError:
        return None
    return (found, other) if found is not None else None


def top_level_function(module: cst.Module, name: str) -> cst.FunctionDef | None:
    """The last ``def name`` in the module's own body (the one a call finds)."""
    found = [s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == name]
    return found[-1] if found else None


def _instances_by_module(project, classes: set[str]) -> dict[str, set[str]]:
    """module path -> names of module-level instances of ``classes`` there."""
    key = "_h2xx_instances_" + ",".join(sorted(classes))
    cached = project.__dict__.get(key)
    if cached is not None:
        return cached
    out: dict[str, set[str]] = {}
    subclasses, local = _subclasses(project, classes)
    for path, facts in project.facts.items():
        for name, _call, _stmt in module_level_instances(facts, classes | subclasses | local.get(path, set())):
            out.setdefault(path, set()).add(name)
    project.__dict__[key] = out
    return out


def _subclasses(project, classes: set[str]) -> tuple[set[str], dict[str, set[str]]]:
    """The project's own subclasses of ``classes`` (``class _PGCSRFProtect(CSRFProtect)``):
    their qualified names, and by module path the names they have there."""
    cache = project.__dict__.setdefault("_extension_subclasses", {})
    key = frozenset(classes)
    if key not in cache:
        qualified: set[str] = set()
        local: dict[str, set[str]] = {}
        for path, facts in project.facts.items():
            for cls in facts.classes.values():
                if any(b and facts.qualify_name(b) in classes for b in cls.bases):
                    qualified.add(f"{module_name_for(path)}.{cls.name}")
                    local.setdefault(path, set()).add(cls.name)
        cache[key] = qualified, local
    return cache[key]


def _resolves_to_instance(project, facts: ModuleFacts, node: cst.BaseExpression, classes: set[str]) -> bool:
    instances = _instances_by_module(project, classes)
    name = dotted_name(node)
    if name is None:
        return False
    if name in instances.get(facts.file.path, set()):
        return True
    qualified = facts.qualify(node) or ""
    module, _, attr = qualified.rpartition(".")
    path = project.find_module(module) if module and facts.imported(name) else None
    return path is not None and attr in instances.get(path, set())


def _subclass_named(project, facts: ModuleFacts, name: str, classes: set[str]) -> bool:
    subclasses, local = _subclasses(project, classes)
    return name in subclasses or name in local.get(facts.file.path, set())


def app_uses_extension(project, app: AppObject, classes: set[str]) -> bool:
    """``Ext(app)`` / ``Ext(app=app)`` or ``ext.init_app(app)`` where the app is
    built or in a function it is handed to (``app_scopes``)."""
    for scope in app_scopes(project, app):
        for call in scope.calls:
            args = [a for a in call.args if a.keyword is None or a.keyword.value == "app"]
            passes_app = any(scope.holds(a.value) for a in args[:1])
            if not passes_app:
                continue
            name = call_name(scope.facts, call.func)
            if name in classes or name and _subclass_named(project, scope.facts, name, classes):
                return True
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "init_app" \
                    and _resolves_to_instance(project, scope.facts, call.func.value, classes):
                return True
    return False


def production_apps(project) -> list[AppObject]:
    """The Flask apps outside tests that serve requests: not one built only for
    Flask's command line next to one that registers routes (alerta's ``commands.py``)."""
    cached = project.__dict__.get("_production_apps")
    if cached is None:
        cached = [a for a in flask_apps(project) if a.kind == "flask"]
        cli = [a for a in cached if _handed_to_cli(a) and not _registers_routes(project, a)]
        if cli and any(a not in cli and _registers_routes(project, a) for a in cached):
            cached = [a for a in cached if a not in cli]
        project.__dict__["_production_apps"] = cached
    return list(cached)


def _handed_to_cli(app: AppObject) -> bool:
    """Whether the app's factory is handed to Flask's command line in its module
    (``ScriptInfo(create_app=_create_app)``, ``FlaskGroup(create_app=...)``)."""
    if app.factory is None:
        return False
    name = re.escape(app.factory.name.value.encode())
    return re.search(rb"\bcreate_app\s*=\s*" + name + rb"\b", app.file.data) is not None


def _registers_routes(project, app: AppObject) -> bool:
    """Whether the app's code (``app_scopes``) registers a route or a blueprint."""
    for scope in app_scopes(project, app):
        for call in scope.calls:
            func = call.func
            if isinstance(func, cst.Attribute) and (
                    func.attr.value in ("register_blueprint", "add_url_rule")
                    or func.attr.value in ROUTE_METHODS and scope.holds(func.value)):
                return True
    return False


# --------------------------------------------------------------------------- where new code goes

def bound_names(module: cst.Module) -> set[str]:
    """Names the module binds anywhere: assignments, defs, parameters, imports."""
    out: set[str] = set()

    class V(cst.CSTVisitor):
        def _target(self, node) -> None:
            if isinstance(node, cst.Name):
                out.add(node.value)
            elif isinstance(node, (cst.Tuple, cst.List)):
                for element in node.elements:
                    self._target(element.value)

        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                self._target(target.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            self._target(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            self._target(node.target)

        def visit_For(self, node: cst.For) -> None:
            self._target(node.target)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            out.add(node.name.value)

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            out.add(node.name.value)

        def visit_Param(self, node: cst.Param) -> None:
            out.add(node.name.value)

        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
            if node.asname is not None and isinstance(node.asname.name, cst.Name):
                out.add(node.asname.name.value)
            else:
                out.add((dotted_name(node.name) or "").split(".")[0])

    module.visit(V())
    return out


def unique_name(module: cst.Module, wanted: str) -> str:
    used = bound_names(module)
    name, i = wanted, 2
    while name in used:
        name = f"{wanted}{i}"
        i += 1
    return name


def _mentions(stmt: cst.CSTNode, module: cst.Module, app_name: str, words: tuple[str, ...]) -> bool:
    code = module.code_for_node(stmt)
    return any(re.search(rf"\b{re.escape(app_name)}\s*{w}", code) for w in words)


def insert_in_scope(module: cst.Module, app_name: str, factory: str | None, statements: list[cst.BaseStatement],
                    *, after: tuple[str, ...] = ()) -> cst.Module:
    """Insert statements after ``app = Flask(...)`` in its scope, or after the
    last top-level statement of that scope whose code matches one of ``after``
    (regexes applied after the app name, e.g. ``r"\\.config\\b"``) or that calls
    ``X.init_app(app)``."""

    def place(body: list) -> list | None:
        index = None
        for i, stmt in enumerate(body):
            if _is_app_assign(stmt, app_name):
                index = i
            elif index is not None:
                if isinstance(stmt, cst.If) and "__main__" in module.code_for_node(stmt.test):
                    break  # nothing after the script entry point
                if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                    continue
                code = module.code_for_node(stmt)
                if _mentions(stmt, module, app_name, after) or re.search(
                        rf"\.init_app\(\s*{re.escape(app_name)}\b", code):
                    if not isinstance(stmt, cst.SimpleStatementLine) or not any(
                            isinstance(s, cst.Return) for s in stmt.body):
                        index = i
        if index is None:
            return None
        return body[: index + 1] + statements + body[index + 1:]

    if factory is None:
        new_body = place(list(module.body))
        if new_body is None:
            raise FixError(f"could not find `{app_name} = Flask(...)`")
        return module.with_changes(body=new_body)
    done = []

    class InFactory(Pruned, cst.CSTTransformer):
        def leave_FunctionDef(self, original, updated):
            if done or original.name.value != factory or not isinstance(updated.body, cst.IndentedBlock):
                return updated
            new_body = place(list(original.body.body))
            if new_body is None:
                return updated
            done.append(True)
            return updated.with_changes(body=updated.body.with_changes(body=new_body))

    transformer = InFactory()
    # the rest of the module is left as it is
    transformer.keep = only_towards(module, [f for f in functions_in(module) if f.name.value == factory])
    out = module.visit(transformer)
    if not done:
        raise FixError(f"could not find `{app_name} = Flask(...)` in {factory}()")
    return out


def _is_app_assign(stmt, app_name: str) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    for small in stmt.body:
        if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call):
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            if any(isinstance(t, cst.Name) and t.value == app_name for t in targets):
                return True
    return False


def module_statements(code: str) -> list[cst.BaseStatement]:
    return list(cst.parse_module(code).body)


def is_token_view_source(code: str) -> bool:
    return bool(re.search(
        r"""request\.headers(?:\.get\(|\[)\s*['"]Authorization|request\.authorization\b|verify_jwt_in_request|"""
        r"""get_jwt_identity|get_jwt\(|jwt_required|token_required|auth_token_required|@\w*token\w*\.login_required|"""
        # a secret sent in a header of its own (webhooks): a cross-site form cannot set one
        r"""request\.headers(?:\.get\(|\[)\s*['"][\w-]*(?i:token|signature|api-?key)[\w-]*['"]""",
        code))


# A decorator that answers 401/403 unless a token the request carries checks out:
# read from the request, from ``g`` (where a URL preprocessor puts a token of the
# path) or through a ``get_..._token()`` helper; not a token of the logged-in user.
_TOKEN_READ = re.compile(r"(?i)request\.\w+[^\n]*(?:token|api_?key)|(?:token|api_?key)\w*\s*=[^\n]*request\.|"
                         r"\bg\.(?:get\(\s*['\"])?\w*token|\bget_\w*token\w*\(")
_REFUSES = re.compile(r"abort\(\s*40[13]\b|,\s*40[13]\s*\)?\s*$|Unauthorized\(|Forbidden\(", re.M)


def _token_decorator(project, view, decorator: cst.Decorator) -> bool:
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    facts = project.facts_for(view.file.path)
    found = _project_function(project, facts, expr) if facts is not None else None
    if found is None:
        return False
    func, other = found
    code = other.file.code_for(func)
    return is_token_view_source(code) or bool(_TOKEN_READ.search(code) and _REFUSES.search(code)
                                                and not re.search(r"(?<![\w.])session\b|current_user", code))


SESSION_MARKERS = re.compile(  # Flask's session, not a database's (db.session)
    r"(?<![\w.])session\b|flask\.session\b|current_user|login_user|logout_user|login_required|request\.form|request\.files|render_template|"
    r"request\.cookies|flash\(")
JSON_MARKERS = re.compile(r"request\.get_json|request\.json\b")


def view_kind(view, project=None) -> str:
    """``token``: authenticated by a header token (in the view, its decorators
    or, given the project, a decorator of the project's own that refuses the
    request without a valid token); ``json``: reads JSON and uses no cookie
    state; ``session``: everything else (forms, the session)."""
    code = view.file.code_for(view.func)
    decorators = " ".join(view.file.code_for(d) for d in view.func.decorators)
    if is_token_view_source(decorators) or is_token_view_source(code):
        return "token"
    if project is not None and any(_token_decorator(project, view, d) for d in view.func.decorators):
        return "token"
    if _shows_session(decorators, code):
        return "session"
    if JSON_MARKERS.search(code):
        return "json"
    return "session"


def uses_session(view, project=None) -> bool:
    """Whether the view relies on the browser's cookies (the session, the
    logged-in user, a posted form): its own code or decorators say so or, given
    the project, a ``before_request`` hook that reads them runs before it (an
    app's or ``before_app_request``: every view; a blueprint's: its module's)."""
    decorators = " ".join(view.file.code_for(d) for d in view.func.decorators)
    if _shows_session(decorators, view.file.code_for(view.func)):
        return True
    if project is None:
        return False
    every, modules = _session_hooks(project)
    return every or view.file.path in modules


def _shows_session(decorators: str, code: str) -> bool:
    """A view's decorators and code (comments aside) use the session: ``@login_required``, a marker."""
    return bool(re.search(r"@\w*\.?login_required", decorators) or SESSION_MARKERS.search(_uncommented(code)))


def _uncommented(code: str) -> str:
    """The code without its comments (a marker in commented-out code is no use of the session)."""
    return re.sub(r"#[^\n]*", "", code)


def _session_hooks(project) -> tuple[bool, set[str]]:
    """(an app-wide ``before_request`` hook reads the session, the modules whose
    blueprint has such a hook of its own)."""
    cached = project.__dict__.get("_session_hooks")
    if cached is not None:
        return cached
    every, modules = False, set()
    for path in sorted(project.model_paths):
        file = project.python[path]
        if b"before_request" not in file.data and b"before_app_request" not in file.data:
            continue
        try:
            functions = functions_in(file.module)
        except ParseError:
            continue
        facts = project.facts_for(path)
        apps = {a.name for a in facts.apps if a.kind == "flask"} if facts is not None else set()
        for func in functions:
            for d in func.decorators:
                expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
                if not (isinstance(expr, cst.Attribute) and expr.attr.value in ("before_request", "before_app_request")):
                    continue
                code = _uncommented(file.code_for(func))
                if not (SESSION_MARKERS.search(code) or "login_required" in code):
                    continue
                if expr.attr.value == "before_app_request" or dotted_name(expr.value) in apps:
                    every = True
                else:
                    modules.add(path)
    project.__dict__["_session_hooks"] = (every, modules)
    return every, modules


def state_changing(view) -> bool:
    methods = view.methods
    return methods is None or bool(methods & STATE_CHANGING)


def not_test(path: str) -> bool:
    return not is_test_path(path)


def literal_str(node) -> str | None:
    return string_value(node)
