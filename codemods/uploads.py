"""H401 upload-unsafe-filename and H402 upload-size-unlimited: file uploads
saved under the name the client chose, and uploads with no size limit."""

from __future__ import annotations

import re

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports
from hardener.models import Confidence, Fix, FixError, Safety, Severity
from hardener.project import dotted_name, is_test_path, string_value
from hardener.rules import Example, Rule, register

from ._flaskapi import facts_or_imports, string_list
from ._flow import (LazyParents, callee_name, functions_in, names_in, enclosing, request_attr, request_names,
                    rewrite)
from ._webapp import _project_function, production_apps

MAX_UPLOAD = "16 * 1024 * 1024"
FILE_SOURCES = {"files"}
NAME_SANITIZERS = {"secure_filename", "safe_join", "uuid4", "token_hex", "token_urlsafe", "hexdigest"}


def _is_file_source(node: cst.BaseExpression, req: set[str]) -> bool:
    """``request.files["x"]``, ``request.files.get("x")`` (not ``getlist``: that is a list)."""
    if isinstance(node, cst.Subscript):
        return request_attr(node.value, req, FILE_SOURCES) and isinstance(node.value, cst.Attribute)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get":
        return isinstance(node.func.value, cst.Attribute) and request_attr(node.func.value, req, FILE_SOURCES)
    return False


def _is_file_list(node: cst.BaseExpression, req: set[str]) -> bool:
    """``request.files.getlist("x")`` / ``request.files.values()``"""
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in ("getlist", "values")
            and isinstance(node.func.value, cst.Attribute) and request_attr(node.func.value, req, FILE_SOURCES))


class _Filenames(cst.CSTVisitor):
    """``F.filename`` nodes outside a sanitizer call."""

    def __init__(self, files: set[str] | None):
        self.files = files  # None: any `X.filename`
        self.found: list[cst.Attribute] = []
        self.owners: set[str] = set()
        self.names: set[str] = set()

    def visit_Call(self, node: cst.Call) -> bool:
        return callee_name(node) not in NAME_SANITIZERS

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        # os.path.splitext(name)[1]: an extension never holds a path separator
        return not (isinstance(node.value, cst.Call) and callee_name(node.value) == "splitext" and len(node.slice) == 1
                    and isinstance(node.slice[0].slice, cst.Index) and _last_index(node.slice[0].slice.value))

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        owner = dotted_name(node.value)
        if node.attr.value == "filename" and owner is not None and (self.files is None or owner in self.files):
            self.found.append(node)
            self.owners.add(owner)
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def _last_index(node: cst.BaseExpression) -> bool:
    """``1`` or ``-1``: the second (and last) item of a pair."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    return isinstance(node, cst.Integer) and node.value == "1"


def _filename_uses(node: cst.CSTNode, files: set[str] | None) -> _Filenames:
    visitor = _Filenames(files)
    node.visit(visitor)
    return visitor


class UploadSave:
    """One ``F.save(dest)`` whose destination holds the client's file name."""

    def __init__(self, func, call, file_var, origin_stmt, origin_nodes, derived_target, save_stmt):
        self.func = func
        self.call = call
        self.file_var = file_var
        self.origin_stmt = origin_stmt  # the statement where the raw name first enters
        self.origin_nodes = origin_nodes  # the F.filename nodes in it
        self.derived_target = derived_target  # `name = F.filename`: the name, else None
        self.save_stmt = save_stmt


def _upload_saves(func: cst.FunctionDef, req: set[str]) -> list[UploadSave]:
    files: set[str] = set()
    # name -> (statement where the client's name enters, the X.filename nodes, `name` if it is exactly
    # `name = X.filename`, the owners X)
    derived: dict[str, tuple[cst.CSTNode, list[cst.Attribute], str | None, set[str]]] = {}
    saves: list[tuple[cst.Call, str]] = []
    parents = LazyParents(func)  # most functions handle no upload

    def statement_of(node):
        return enclosing(node, parents, (cst.SimpleStatementLine,))

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, node):
            return node is func

        def visit_For(self, node: cst.For) -> None:
            if _is_file_list(node.iter, req) and isinstance(node.target, cst.Name):
                files.add(node.target.value)

        def leave_Assign(self, node: cst.Assign) -> None:
            targets = [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]
            if _is_file_source(node.value, req):
                files.update(targets)
                return
            uses = _filename_uses(node.value, None)
            from_derived = [n for n in uses.names if n in derived]
            for name in targets:
                if uses.found:
                    exact = isinstance(node.value, cst.Attribute) and node.value is uses.found[0] and len(targets) == 1
                    derived[name] = (statement_of(node), uses.found, name if exact else None, uses.owners)
                elif from_derived:
                    derived[name] = derived[from_derived[0]]
                else:
                    derived.pop(name, None)

        def visit_Call(self, node: cst.Call) -> None:
            func_ = node.func
            if isinstance(func_, cst.Attribute) and func_.attr.value == "save" and node.args:
                owner = dotted_name(func_.value)
                # an upload: from request.files, or anything whose own .filename goes into the path
                # (e.g. a Flask-WTF `form.photo.data`)
                if owner is not None or _is_file_source(func_.value, req):
                    saves.append((node, owner or ""))

    func.body.visit(V())
    out = []
    for call, owner in saves:
        dest = call.args[0].value
        uses = _filename_uses(dest, files | ({owner} if owner else set()))
        stmt = statement_of(call)
        if uses.found:
            out.append(UploadSave(func, call, owner, stmt, uses.found, None, stmt))
            continue
        for name in sorted(uses.names):
            if name in derived and (owner in derived[name][3] or derived[name][3] & files):
                origin, nodes, exact, _ = derived[name]
                out.append(UploadSave(func, call, owner, origin, nodes, exact, stmt))
                break
    return out


def _sanitizes_param(func: cst.FunctionDef, code: str, imports: dict[str, str], arg: cst.Arg, position: int) -> bool:
    """Whether a function of the project's own takes the path out of the parameter
    ``arg`` fills before using it: ``secure_filename(p)``, ``basename(p)``,
    ``p = p.replace(sep, ...)`` (fava's ``filepath_in_document_folder``), the piece
    after the last ``/``: ``p = p.split("/")[-1]``."""
    params = [*func.params.posonly_params, *func.params.params]
    if arg.keyword is not None:
        name = arg.keyword.value
        if name not in {p.name.value for p in [*params, *func.params.kwonly_params]}:
            return False
    elif arg.star or position >= len(params):
        return False
    else:
        name = params[position].name.value
    p = re.escape(name)
    # ``sep`` only as os.sep itself (``from os import sep``), not any name so spelled
    local = {q.name.value for q in [*params, *func.params.kwonly_params]}
    bare = imports.get("sep") in ("os.sep", "os.path.sep") and "sep" not in local and not re.search(r"\bsep\s*=", code)
    sep = r"os\.sep|os\.path\.sep" + ("|sep" if bare else "")
    # otterwiki's sanitize_filename: value = value.replace("\\", "/").split("/")[-1]
    last_piece = rf"\b{p}\s*=\s*{p}(?:\.replace\([^()]*\))*\.r?split\(\s*['\"]/['\"](?:\s*,\s*1)?\s*\)\s*\[\s*-1\s*\]"
    return re.search(rf"(?:secure_filename|basename)\(\s*{p}\s*\)|\b{p}\s*=\s*{p}\.replace\(\s*(?:{sep})\b"
                     rf"|\b{p}\s*=\s*{p}\.replace\(\s*['\"]/['\"]|{last_piece}", code) is not None


def _through_sanitizing_helper(project, facts, save: UploadSave) -> bool:
    """Whether every client file name of the save goes through such a function
    on its way (``path = folder_path(..., upload.filename)``)."""
    parents = LazyParents(save.origin_stmt)
    for node in save.origin_nodes:
        current, ok = parents.get(id(node)), False
        while current is not None and not ok:
            call = parents.get(id(current))
            if isinstance(current, cst.Arg) and isinstance(call, cst.Call):
                found = _project_function(project, facts, call.func)
                if found is not None:
                    positional = [a for a in call.args if a.keyword is None]
                    position = positional.index(current) if current.keyword is None else -1
                    ok = _sanitizes_param(found[0], found[1].file.code_for(found[0]), found[1].imports, current,
                                          position)
            current = call
        if not ok:
            return False
    return bool(save.origin_nodes)


def _empty_name_handler(func: cst.FunctionDef, file_var: str, module: cst.Module) -> cst.BaseSuite | None:
    """The body of the view's own ``if file.filename == "":`` check, if it has
    one that leaves the view (return / abort / raise)."""
    found = []

    class V(cst.CSTVisitor):
        def visit_If(self, node: cst.If) -> None:
            test = node.test
            checks_name = False
            if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
                checks_name = _is_filename(test.expression, file_var)
            elif isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
                comp = test.comparisons[0]
                if isinstance(comp.operator, cst.Equal):
                    sides = [test.left, comp.comparator]
                    checks_name = any(_is_filename(s, file_var) for s in sides) and any(string_value(s) == "" for s in sides)
            if checks_name and isinstance(node.body, cst.IndentedBlock):
                last = node.body.body[-1]
                code = module.code_for_node(last).strip()
                if code.startswith(("return", "raise", "abort(", "flask.abort(")):
                    found.append(node.body)

    func.body.visit(V())
    return found[0] if found else None


def _is_filename(node, file_var: str) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value == "filename" and dotted_name(node.value) == file_var


def _extension_values(node) -> list[str] | None:
    values = string_list(node)
    if values is None and isinstance(node, cst.Call) and callee_name(node) in ("set", "frozenset") and node.args:
        values = string_list(node.args[0].value)
    return values or None


def _module_extension_facts(module: cst.Module) -> tuple[cst.BaseExpression | None, list[str]]:
    """(the ALLOWED_EXTENSIONS value, names of one-argument functions that use it) at module level."""
    constant, helpers = None, []
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and any(
                        isinstance(t.target, cst.Name) and t.target.value == "ALLOWED_EXTENSIONS" for t in small.targets):
                    constant = small.value
        elif isinstance(stmt, cst.FunctionDef) and "ALLOWED_EXTENSIONS" in names_in(stmt) \
                and len(stmt.params.params) == 1:
            helpers.append(stmt.name.value)
    return constant, helpers


def _refuse_by_values(values: list[str] | None, name: str, container: str) -> tuple[str, list] | None:
    if not values:
        return None
    if all(v.startswith(".") for v in values):
        return f"os.path.splitext({name})[1].lower() not in {container}", [("os", None)]
    if any(v.startswith(".") for v in values):
        return None
    return f'{name}.rsplit(".", 1)[-1].lower() not in {container}', []


def _allowed_check(project, file, func: cst.FunctionDef, name: str) -> tuple[str, list] | None:
    """(an expression true when ``name`` has an extension the project refuses, imports it needs), when the
    project defines ALLOWED_EXTENSIONS (in this module, imported into it, or as a config key) and the
    view does not check it yet. An ``allowed_file()``-like helper next to the constant is preferred."""
    if "ALLOWED_EXTENSIONS" in names_in(func) or "ALLOWED_EXTENSIONS" in file.code_for(func):
        return None
    called = {callee_name(c) for c in _calls(func)}
    constant, helpers = _module_extension_facts(file.module) if b"ALLOWED_EXTENSIONS" in file.data else (None, [])
    # imported from another module of the project: `from config import ALLOWED_EXTENSIONS, allowed_file`
    facts = facts_or_imports(project, file)
    for local, qualified in facts.imports.items():
        module_name, _, attr = qualified.rpartition(".")
        path = project.find_module(module_name) if module_name else None
        # a module without the name has neither the constant nor a helper using it: not parsed
        if path is None or b"ALLOWED_EXTENSIONS" not in project.python[path].data:
            continue
        other = project.parse(path)
        if other is None:
            continue
        other_constant, other_helpers = _module_extension_facts(other.module)
        if attr == "ALLOWED_EXTENSIONS" and other_constant is not None and local == "ALLOWED_EXTENSIONS":
            constant = other_constant
        elif attr in other_helpers:
            helpers.append(local)
    if any(h in called for h in helpers):
        return None  # the view already checks
    if helpers:
        return f"not {helpers[0]}({name})", []
    if constant is not None:
        return _refuse_by_values(_extension_values(constant), name, "ALLOWED_EXTENSIONS")
    for setting in project.config_settings():
        if setting.key == "ALLOWED_EXTENSIONS" and not is_test_path(setting.file.path):
            found = _refuse_by_values(_extension_values(setting.value), name,
                                      'current_app.config["ALLOWED_EXTENSIONS"]')
            if found is not None:
                return found[0], found[1] + [("flask", "current_app")]
    return None


def _free_name(func: cst.FunctionDef, wanted: str) -> str:
    """A name the view does not use yet (any name it mentions, local or global)."""
    used = names_in(func)
    name, i = wanted, 2
    while name in used:
        name = f"{wanted}{i}"
        i += 1
    return name


def _calls(node):
    out = []

    class V(cst.CSTVisitor):
        def visit_Call(self, n):
            out.append(n)

    node.visit(V())
    return out


@register
class UploadUnsafeFilename(Rule):
    """Uploaded file saved under the name the client sent.

    ## What it does
    Finds `FileStorage.save()` calls on uploads (`request.files["x"]`,
    `request.files.get("x")`, each file of `request.files.getlist("x")`, or
    any object saved under its own `.filename`, like a Flask-WTF
    `form.photo.data`) whose destination is built from `file.filename`,
    directly or through variables. Code that passes the name through
    `secure_filename()` (or makes up its own name) is left alone, and so is a
    name handed to a function of the project's own that takes the path out
    of it first (`secure_filename(name)`, `basename(name)`,
    `name = name.replace(os.sep, " ")`, `name = name.split("/")[-1]`).

    ## Why is this bad?
    The file name is chosen by the client. A name like `../../app.py` or
    `/etc/cron.d/job` makes `os.path.join` point outside the upload folder:
    the attacker overwrites code, templates or configuration, which often
    ends in remote code execution (CWE-22 path traversal).

    ## Example
    ```python
    file = request.files["file"]
    file.save(os.path.join(app.config["UPLOAD_FOLDER"], file.filename))
    ```

    ## Use instead
    ```python
    from werkzeug.utils import secure_filename

    file = request.files["file"]
    filename = secure_filename(file.filename)
    if not filename:
        abort(400)
    file.save(os.path.join(app.config["UPLOAD_FOLDER"], filename))
    ```
    `secure_filename` keeps only a plain name (`../../evil.txt` becomes
    `evil.txt`) and may return an empty string, which is rejected. When the
    view already handles an empty name (`if file.filename == "": ...`), that
    same handling is reused instead of `abort(400)`; when the module defines
    `ALLOWED_EXTENSIONS` (and an `allowed_file()` helper), the check is added.

    ## Fix safety
    Safe: ordinary names are saved as before (`report.txt` stays
    `report.txt`); names with path parts lose them, names with non-ASCII
    characters are transliterated or dropped. Code that later looks the file
    up by its original name should use the secured name.

    ## References
    - https://flask.palletsprojects.com/en/latest/patterns/fileuploads/
    - https://werkzeug.palletsprojects.com/en/latest/utils/#werkzeug.utils.secure_filename
    - CWE-22: Improper Limitation of a Pathname to a Restricted Directory
    """

    code = "H401"
    name = "upload-unsafe-filename"
    category = "upload"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    cwe = 22

    @classmethod
    def wants(cls, data: bytes) -> bool:
        # (instead of `triggers`) every finding is a `.save(...)` of a path built from some `.filename`
        return b"filename" in data and b"save" in data

    VALID = [
        "import os\nfrom flask import Flask, request\nfrom werkzeug.utils import secure_filename\napp = Flask(__name__)\n"
        "@app.post('/up')\ndef up():\n    f = request.files['file']\n"
        "    f.save(os.path.join('uploads', secure_filename(f.filename)))\n    return 'ok'\n",
        # a name of its own
        "import os, uuid\nfrom flask import Flask, request\napp = Flask(__name__)\n@app.post('/up')\ndef up():\n"
        "    f = request.files.get('file')\n    name = uuid.uuid4().hex\n    f.save(os.path.join('uploads', name))\n"
        "    return name\n",
        # secured once, used later
        "import os\nfrom flask import Flask, request\nfrom werkzeug.utils import secure_filename\napp = Flask(__name__)\n"
        "@app.post('/up')\ndef up():\n    f = request.files['file']\n    name = secure_filename(f.filename)\n"
        "    path = os.path.join('uploads', name)\n    f.save(path)\n    return 'ok'\n",
    ]
    INVALID = [
        Example(
            "import os\nfrom flask import Flask, request\napp = Flask(__name__)\n\n@app.post('/up')\ndef up():\n"
            "    file = request.files['file']\n    # keep the client's name\n"
            "    file.save(os.path.join('uploads', file.filename))\n    return 'saved'\n",
            "import os\nfrom flask import abort, Flask, request\nfrom werkzeug.utils import secure_filename\n\n"
            "app = Flask(__name__)\n\n@app.post('/up')\ndef up():\n"
            "    file = request.files['file']\n    # keep the client's name\n"
            "    filename = secure_filename(file.filename)\n    if not filename:\n        abort(400)\n"
            "    file.save(os.path.join('uploads', filename))\n    return 'saved'\n",
        ),
        # through variables; the view's own empty-name handling and its extension check
        Example(
            "import os\nfrom flask import Flask, flash, redirect, request\napp = Flask(__name__)\n"
            "ALLOWED_EXTENSIONS = {'png', 'jpg'}\n\n"
            "def allowed_file(name):\n    return '.' in name and name.rsplit('.', 1)[1].lower() in ALLOWED_EXTENSIONS\n\n"
            "@app.route('/up', methods=['POST'])\ndef up():\n    f = request.files.get('photo')\n"
            "    if f.filename == '':\n        flash('No selected file')\n        return redirect(request.url)\n"
            "    name = f.filename\n    target = os.path.join(app.root_path, 'uploads', name)\n    f.save(target)\n"
            "    return redirect('/')\n",
            "import os\nfrom flask import Flask, flash, redirect, request\nfrom werkzeug.utils import secure_filename\n\n"
            "app = Flask(__name__)\nALLOWED_EXTENSIONS = {'png', 'jpg'}\n\n"
            "def allowed_file(name):\n    return '.' in name and name.rsplit('.', 1)[1].lower() in ALLOWED_EXTENSIONS\n\n"
            "@app.route('/up', methods=['POST'])\ndef up():\n    f = request.files.get('photo')\n"
            "    if f.filename == '':\n        flash('No selected file')\n        return redirect(request.url)\n"
            "    name = secure_filename(f.filename)\n    if not name or not allowed_file(name):\n"
            "        flash('No selected file')\n        return redirect(request.url)\n"
            "    target = os.path.join(app.root_path, 'uploads', name)\n    f.save(target)\n"
            "    return redirect('/')\n",
        ),
        # every file of a multi-upload, inline extension check from the constant
        Example(
            "import os\nfrom flask import Flask, request\napp = Flask(__name__)\nALLOWED_EXTENSIONS = ['txt', 'pdf']\n"
            "@app.post('/many')\ndef many():\n    for item in request.files.getlist('docs'):\n"
            "        item.save('/srv/docs/' + item.filename)\n    return 'ok'\n",
            "import os\nfrom flask import abort, Flask, request\nfrom werkzeug.utils import secure_filename\n\n"
            "app = Flask(__name__)\nALLOWED_EXTENSIONS = ['txt', 'pdf']\n"
            "@app.post('/many')\ndef many():\n    for item in request.files.getlist('docs'):\n"
            "        filename = secure_filename(item.filename)\n"
            "        if not filename or filename.rsplit(\".\", 1)[-1].lower() not in ALLOWED_EXTENSIONS:\n"
            "            abort(400)\n        item.save('/srv/docs/' + filename)\n    return 'ok'\n",
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        facts = facts_or_imports(project, file)
        req = request_names(facts)
        # what the module's own tree and imports say: once per content
        saves = file.memo("H401 saves", lambda: [s for func in functions_in(file.module) for s in _upload_saves(func, req)])
        for save in saves:
            if _through_sanitizing_helper(project, facts, save):
                continue
            yield self.finding(
                file, save.call,
                f"`{save.file_var or 'upload'}.save()` writes to a path built from the client's file name: "
                f"a name like `../../app.py` escapes the upload folder",
                self._fix(project, file, save),
            )

    def _fix(self, project, file, save: UploadSave) -> Fix:
        def compute():
            module = file.module
            builder = ChangeBuilder(project)
            handler = _empty_name_handler(save.func, save.file_var, module)
            uses_abort = handler is None
            imports = [("werkzeug.utils", "secure_filename")] + ([("flask", "abort")] if uses_abort else [])
            name = save.derived_target or _free_name(save.func, "filename")
            check = f"not {name}"
            refused = _allowed_check(project, file, save.func, name)
            if refused is not None:
                check += f" or {refused[0]}"
                imports += refused[1]
            body = handler if handler is not None else cst.IndentedBlock(body=[cst.parse_statement("abort(400)\n")])
            guard = cst.If(test=cst.parse_expression(check), body=body)
            secured = lambda node: cst.Call(cst.Name("secure_filename"), [cst.Arg(node)])  # noqa: E731
            if save.derived_target is not None:
                # `name = f.filename` -> `name = secure_filename(f.filename)`, then the check
                replace = {n: secured(n) for n in save.origin_nodes}
                edit = lambda m: rewrite(m, replace=replace, after={save.origin_stmt: [guard]})  # noqa: E731
            else:
                first = cst.parse_statement(f"{name} = secure_filename({module.code_for_node(save.origin_nodes[0])})\n")
                replace = {n: cst.Name(name) for n in save.origin_nodes}
                if save.origin_stmt is None:
                    raise FixError("the save() call is not a statement of its own")
                edit = lambda m: rewrite(m, replace=replace, before={save.origin_stmt: [first, guard]})  # noqa: E731
            builder.edit_python(file.path, edit, file=file)
            builder.edit_python(file.path, lambda m: add_imports(m, *imports))
            builder.note("Uploads are saved under secure_filename(name); an empty or unsafe name is refused")
            return builder.build()

        return Fix("Save uploads under secure_filename(file.filename)", Safety.SAFE, compute)


# --------------------------------------------------------------------------- H402


_FILES_ATTRIBUTE = re.compile(rb"\.\s*files\b")  # what a module needs for `request.files`


def _upload_sites(project):
    """(file, node) of the first `request.files` use in each non-test module."""
    for path in sorted(project.python):
        file = project.python[path]
        if is_test_path(path) or (b"FileField" not in file.data and not _FILES_ATTRIBUTE.search(file.data)):
            continue
        try:
            module = file.module
        except Exception:
            continue
        facts = facts_or_imports(project, file)
        req = request_names(facts)
        found = []

        def is_files(node) -> bool:
            return isinstance(node, cst.Attribute) and node.attr.value == "files" \
                and isinstance(node.value, cst.Name) and node.value.value in req

        class V(cst.CSTVisitor):
            # an upload is read: request.files["x"], .get / .getlist / .values / .items (not e.g. its class)
            def visit_Subscript(self, node: cst.Subscript) -> None:
                if not found and is_files(node.value):
                    found.append(node.value)

            def visit_Call(self, node: cst.Call) -> None:
                func = node.func
                if not found and isinstance(func, cst.Attribute) and is_files(func.value) \
                        and func.attr.value in ("get", "getlist", "values", "items"):
                    found.append(func.value)

        module.visit(V())
        if not found and b"FileField" in file.data:
            # a Flask-WTF / WTForms file field: the form accepts uploads
            for local, qualified in facts.imports.items():
                if qualified.endswith("FileField") and qualified.split(".")[0] in ("flask_wtf", "wtforms"):
                    found.append(_import_node(module, local))
                    break
        if found and found[0] is not None:
            yield file, found[0]


def _import_node(module: cst.Module, local: str) -> cst.CSTNode | None:
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        name = alias.asname.name if alias.asname else alias.name
                        if isinstance(name, cst.Name) and name.value == local:
                            return alias
    return None


@register
class UploadSizeUnlimited(Rule):
    """File uploads without a request size limit.

    ## What it does
    Reports projects that accept file uploads (`request.files`, or a
    Flask-WTF / WTForms `FileField`) while no configuration the app loads
    sets `MAX_CONTENT_LENGTH`.

    ## Why is this bad?
    Without a limit, Flask reads request bodies of any size: a few large
    uploads fill the disk or memory of the server (CWE-400, denial of
    service). With `MAX_CONTENT_LENGTH` set, Werkzeug refuses larger bodies
    with 413 Request Entity Too Large before the view runs.

    ## Example
    ```python
    app = Flask(__name__)
    app.config["UPLOAD_FOLDER"] = "uploads"
    ```

    ## Use instead
    ```python
    app = Flask(__name__)
    app.config["UPLOAD_FOLDER"] = "uploads"
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    ```
    The setting goes where the project keeps its configuration: next to the
    other `app.config[...]` assignments, into the `app.config.update(...)`
    call, or into the config class (or module) the app loads.

    ## Fix safety
    Safe for typical uploads: requests over 16 MiB are refused with 413.
    Raise the value if the app accepts bigger files on purpose.

    ## References
    - https://flask.palletsprojects.com/en/latest/config/#MAX_CONTENT_LENGTH
    - https://flask.palletsprojects.com/en/latest/patterns/fileuploads/#improving-uploads
    - CWE-400: Uncontrolled Resource Consumption
    """

    code = "H402"
    name = "upload-size-unlimited"
    category = "upload"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    cwe = 400

    VALID = [
        "from flask import Flask, request\napp = Flask(__name__)\napp.config['MAX_CONTENT_LENGTH'] = 1024 * 1024\n"
        "@app.post('/up')\ndef up():\n    request.files['f'].save('/tmp/x')\n    return ''\n",
        # no uploads
        "from flask import Flask, request\napp = Flask(__name__)\n@app.post('/f')\ndef f():\n    return request.form['x']\n",
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('settings.Config')\n",
                 "settings.py": "class Config:\n    MAX_CONTENT_LENGTH = 2_000_000\n",
                 "views.py": "from flask import request\nfrom app import app\n@app.post('/up')\ndef up():\n"
                             "    return str(len(request.files))\n"}, findings=0),
    ]
    INVALID = [
        Example(
            "from flask import Flask, request\napp = Flask(__name__)\napp.config['UPLOAD_FOLDER'] = 'up'  # files go here\n\n"
            "@app.post('/up')\ndef up():\n    request.files['f'].save('up/x')\n    return ''\n",
            "from flask import Flask, request\napp = Flask(__name__)\napp.config['UPLOAD_FOLDER'] = 'up'  # files go here\n"
            "app.config['MAX_CONTENT_LENGTH'] = 16 * 1024 * 1024\n\n"
            "@app.post('/up')\ndef up():\n    request.files['f'].save('up/x')\n    return ''\n",
        ),
        Example(
            {"pkg/__init__.py": "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n"
                                "    app.config.from_object('pkg.config.Config')\n    from pkg import views\n    return app\n",
             "pkg/config.py": "class Config:\n    UPLOAD_FOLDER = 'up'\n",
             "pkg/views.py": "from flask import Blueprint, request\nbp = Blueprint('v', __name__)\n@bp.post('/up')\n"
                             "def up():\n    request.files['f'].save('up/x')\n    return ''\n"},
            {"pkg/config.py": "class Config:\n    UPLOAD_FOLDER = 'up'\n    MAX_CONTENT_LENGTH = 16 * 1024 * 1024\n"},
        ),
    ]

    def check_project(self, project):
        sites = list(_upload_sites(project))
        if not sites:
            return
        if any(s.key == "MAX_CONTENT_LENGTH" for s in project.config_settings(loaded_only=False)):
            return
        from .cookies import config_targets

        upload_file, upload_node = sites[0]
        apps = production_apps(project)
        if not apps:
            yield self.finding(upload_file, upload_node,
                               "File uploads are accepted but MAX_CONTENT_LENGTH is not set: any size is read")
            return
        app = apps[0]
        targets = config_targets(project, app)
        target = targets[0]
        yield self.finding(
            upload_file, upload_node,
            f"File uploads are accepted but MAX_CONTENT_LENGTH is not set: request bodies of any size are read "
            f"(set it in {target.describe()})",
            self._fix(project, app, target),
        )

    def _fix(self, project, app, target) -> Fix:
        from .cookies import write_settings

        def compute():
            builder = ChangeBuilder(project)
            builder.edit_python(target.file.path,
                                lambda m: write_settings(m, target, app, {"MAX_CONTENT_LENGTH": MAX_UPLOAD}),
                                file=target.file)
            builder.note("Requests larger than 16 MiB are now refused with 413; raise MAX_CONTENT_LENGTH if needed")
            return builder.build()

        return Fix(f"Set MAX_CONTENT_LENGTH = {MAX_UPLOAD} in {target.describe()}", Safety.SAFE, compute)
