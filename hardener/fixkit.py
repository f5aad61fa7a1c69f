"""Building blocks for fixes: a change-set builder, .env and dependency edits,
and small libcst helpers (imports, ``load_dotenv()``).

Every fix builds its ChangeSet with a ``ChangeBuilder``: edits to the same
file within one fix compose, and each FileChange remembers the content it was
computed from so the engine can refuse stale writes.
"""

from __future__ import annotations

import re
from typing import Callable

import libcst as cst

from hardener import cstwalk
from hardener.discovery import GitIgnore
from hardener.models import ChangeSet, FileChange, FixError
from hardener.project import dotted_name
from hardener.source import TRIVIA, ParseError, parse_unvalidated


class StaleFixError(FixError):
    """The fix was computed for content that has changed since: rescan and retry."""

# Lower bounds we know the fixes work with.
KNOWN_VERSIONS = {
    "python-dotenv": ">=1.0",
    "flask-wtf": ">=1.2",
    "flask-talisman": ">=1.1",
    "flask-limiter": ">=3.5",
}


def normalize_name(name: str) -> str:
    """PEP 503 normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(line: str) -> str | None:
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    m = _REQ_NAME.match(line)
    return normalize_name(m.group(1)) if m else None


class ChangeBuilder:
    def __init__(self, project):
        self.project = project
        self.ws = project.workspace
        self._new: dict[str, bytes] = {}
        self._order: list[str] = []
        self._modes: dict[str, int] = {}
        self._secrets: dict[str, set[str]] = {}
        # path -> the tree of its new content, from this fix's last edit of it; its
        # code is generated when asked for (edits of one file go on from the tree)
        self._trees: dict[str, cst.Module] = {}
        self._ungenerated: set[str] = set()
        # path -> (tree, text) the file's edits started from: the code of the
        # statements they left alone is taken from that text, not generated
        self._bases: dict[str, tuple[cst.Module, bytes]] = {}
        self.changeset = ChangeSet()

    # -- generic
    def current(self, path: str) -> bytes | None:
        if path in self._ungenerated:  # a tree of this fix's edits: every one started from a base
            self._new[path] = module_bytes(self._trees[path], *self._bases[path])
            self._ungenerated.discard(path)
        if path in self._new:
            return self._new[path]
        return self.ws.read(path)

    def set(self, path: str, data: bytes, *, mode: int | None = None, secrets: tuple[str, ...] = ()) -> None:
        if path not in self._order:
            self._order.append(path)
        self._trees.pop(path, None)
        self._bases.pop(path, None)
        self._ungenerated.discard(path)
        self._new[path] = data
        if mode is not None:
            self._modes[path] = mode
        if secrets:
            self._secrets.setdefault(path, set()).update(secrets)

    def edit_python(self, path: str, transform: Callable[[cst.Module], cst.Module], file=None) -> None:
        """Transform a module. Pass the scanned ``file`` (a PythonFile) when the
        transform matches nodes the rule found: its tree is used as long as the
        file is unchanged, so node identity holds. Such an edit must come first
        among this fix's edits to that file."""
        if file is None and path in self._trees:
            module = self._trees[path]  # this fix edited the file already: go on from that tree
        else:
            data = self.current(path)
            if data is None:
                raise FixError(f"{path} does not exist")
            if file is not None:
                if data != file.data:
                    raise StaleFixError(f"{path} changed since it was scanned")
                module = file.module
            else:
                scanned = self.project.python.get(path)
                try:  # the scanned tree while the file is unchanged
                    module = scanned.module if scanned is not None and scanned.data == data else parse_unvalidated(data)
                except (cst.ParserSyntaxError, ParseError) as exc:
                    raise FixError(f"{path} does not parse") from exc
            self._bases[path] = (module, data)
        new = transform(module)
        if new is module:
            return
        if path not in self._order:
            self._order.append(path)
        self._trees[path] = new
        self._ungenerated.add(path)

    def mark_secret(self, path: str, value: str) -> None:
        """Mask ``value`` wherever the change to ``path`` is shown."""
        self._secrets.setdefault(path, set()).add(value)

    def note(self, text: str) -> None:
        if text not in self.changeset.notes:
            self.changeset.notes.append(text)

    def followup(self, text: str) -> None:
        if text not in self.changeset.followups:
            self.changeset.followups.append(text)

    def build(self) -> ChangeSet:
        cs = self.changeset
        cs.changes = []
        for path in self._order:
            old = self.ws.read(path)
            new = self.current(path)
            if old == new:
                continue
            cs.changes.append(FileChange(path, old, new, self._modes.get(path) if old is None else None,
                                         tuple(sorted(self._secrets.get(path, ())))))
        return cs

    # -- .gitignore / .env / .env.example
    def ensure_gitignored(self, entry: str) -> None:
        data = self.current(".gitignore")
        text = (data or b"").decode("utf-8", "replace")
        if GitIgnore(text.splitlines()).ignored(entry, False):
            return
        newline = "\r\n" if "\r\n" in text else "\n"
        if text and not text.endswith(("\n", "\r")):
            text += newline
        text += f"{entry}{newline}"
        self.set(".gitignore", text.encode("utf-8"))

    def env_var(self, key: str, value: str, *, placeholder: str = "change-me", secret: bool = True) -> bool:
        """Add ``key`` to .env (never replacing an existing value) and to .env.example.

        Returns False when .env already defines the key (its value is kept)."""
        self.ensure_gitignored(".env")
        existing = self.current(".env")
        text = (existing or b"").decode("utf-8", "replace")
        added = key not in env_keys(text)
        if added:
            if text and not text.endswith("\n"):
                text += "\n"
            text += f"{key}={quote_env(value)}\n"
            self.set(".env", text.encode("utf-8"), mode=0o600, secrets=(value,) if secret else ())
        else:
            self.note(f".env already defines {key}; its value was kept")
        example = (self.current(".env.example") or b"").decode("utf-8", "replace")
        if key not in env_keys(example):
            if example and not example.endswith("\n"):
                example += "\n"
            example += f"{key}={placeholder}\n"
            self.set(".env.example", example.encode("utf-8"))
        return added

    # -- dependencies
    def dependency(self, name: str, spec: str | None = None) -> None:
        """Add a requirement to the project's dependency file (never a duplicate)."""
        spec = spec if spec is not None else KNOWN_VERSIONS.get(name, "")
        requirement = f"{name}{spec}"
        from hardener.deps import add_requirement

        outcome = add_requirement(self, name, requirement)
        if outcome.changed or outcome.already:
            if outcome.changed and requirement not in self.changeset.dependencies:
                self.changeset.dependencies.append(requirement)
        if outcome.message:
            self.followup(outcome.message)


def module_bytes(new: cst.Module, base: cst.Module, base_data: bytes) -> bytes:
    """``new.bytes`` for a tree made from ``base`` (parsed from ``base_data``) by
    edits that keep the statements they leave alone: the text of each run of
    such statements is copied from ``base_data``, and only the new statements'
    code is generated (generating a whole module costs as much as the edits of
    a typical fix together). Anything else is generated as before."""
    if (new.header is not base.header and list(new.header) != list(base.header)) \
            or (new.footer is not base.footer and list(new.footer) != list(base.footer)) \
            or (new.encoding, new.default_indent, new.default_newline) != \
            (base.encoding, base.default_indent, base.default_newline) \
            or not new.has_trailing_newline or not base.has_trailing_newline or not base.body or not new.body:
        return new.bytes
    try:
        text = base_data.decode(base.encoding)
    except (UnicodeDecodeError, LookupError):
        return new.bytes
    old_index = {id(stmt): i for i, stmt in enumerate(base.body)}
    spans = _StatementSpans(base, text)
    pieces: list[str] = []
    kept_from = None  # the first old statement of the run being copied
    last = -1  # the old statement kept last
    for stmt in new.body:
        i = old_index.get(id(stmt))
        if i is not None and base.body[i] is stmt and i > last:
            if kept_from is None:
                kept_from = i
            elif i != last + 1:  # old statements between were dropped: close the run
                pieces.append(spans.text_of(kept_from, last))
                kept_from = i
            last = i
            continue
        if kept_from is not None:
            pieces.append(spans.text_of(kept_from, last))
            kept_from = None
        pieces.append(new.code_for_node(stmt))
    if kept_from is not None:
        pieces.append(spans.text_of(kept_from, last))
    if None in pieces:
        return new.bytes  # a statement's place in the text could not be told
    return (spans.header + "".join(pieces) + spans.footer).encode(new.encoding)


class _StatementSpans:
    """Where a module's top-level statements are in its text, found for the
    few statements asked about: a statement's code found exactly once, else
    right after the statement before it. The first statement starts after
    the header and the last ends before the footer; two neighbours meet."""

    def __init__(self, module: cst.Module, text: str):
        self.module, self.text = module, text
        self._spans: dict[int, tuple[int, int] | None] = {}
        self.header = "".join(module.code_for_node(line) for line in module.header)
        self.footer = "".join(module.code_for_node(line) for line in module.footer)
        self._ends_known = text.startswith(self.header) and text.endswith(self.footer)

    def span(self, i: int) -> tuple[int, int] | None:
        if i in self._spans:
            return self._spans[i]
        body, text = self.module.body, self.text
        start = None
        for k in range(i, max(-1, i - 64), -1):  # back to a statement found on its own
            code = self.module.code_for_node(body[k])
            at = text.find(code)
            if at >= 0 and text.find(code, at + 1) < 0:
                start = at + len(code)
                self._spans[k] = (at, start)
                break
            if k == 0:
                start = len(self.header)
                if not text.startswith(code, start):
                    return None
                self._spans[0] = (start, start + len(code))
                start += len(code)
                break
        if start is None:
            self._spans[i] = None
            return None
        for j in range(k + 1, i + 1):  # and forwards again, statement by statement
            code = self.module.code_for_node(body[j])
            if not text.startswith(code, start):
                self._spans[i] = None
                return None
            self._spans[j] = (start, start + len(code))
            start += len(code)
        return self._spans[i]

    def _start(self, i: int) -> int | None:
        if i == 0 and self._ends_known:
            return len(self.header)
        before = self._spans.get(i - 1)
        if before is not None:
            return before[1]
        here = self.span(i)
        return here[0] if here is not None else None

    def _end(self, i: int) -> int | None:
        if i == len(self.module.body) - 1 and self._ends_known:
            return len(self.text) - len(self.footer)
        after = self._spans.get(i + 1)
        if after is not None:
            return after[0]
        here = self.span(i)
        return here[1] if here is not None else None

    def text_of(self, first: int, last: int) -> str | None:
        """The text of old statements ``first`` to ``last``, or None."""
        start, end = self._start(first), self._end(last)
        if start is None or end is None:
            return None
        return self.text[start:end]


def env_keys(text: str) -> set[str]:
    keys = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:]
        key = line.split("=", 1)[0].strip()
        if key:
            keys.add(key)
    return keys


def quote_env(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:@+\-,=]*", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# --------------------------------------------------------------------------- libcst helpers


def add_imports(module: cst.Module, *imports: tuple[str, str | None]) -> cst.Module:
    """Add ``import mod`` (name None) or ``from mod import name`` where missing.

    The same code as libcst's AddImportsVisitor (``tests/test_fixkit.py``
    compares them), without its cost: building that visitor and the one it
    gathers imports with inspects every method of both, more time than the
    rest of a typical fix. Like it, only the top of the module is read: the
    imports right after a docstring or ``__strict__`` flag. A name is missing
    unless an unaliased ``import mod`` / ``from mod import name`` (or ``*``)
    is there; missing names go into the first such ``from mod import`` line,
    else new lines follow the import block, ``import`` lines first, sorted,
    and a blank line separates the block from what comes after."""
    for mod, name in imports:
        if mod == "__future__" and name is None:
            raise ValueError("Cannot import __future__ directly!")
    body = list(module.body)
    start = 1 if body and _skipped_first(body[0]) else 0
    end = start
    while end < len(body) and _is_single_import(body[end]):
        end += 1
    have_modules: set[str] = set()
    have_objects: dict[str, set[str]] = {}
    for stmt in body[start:end]:
        imp = stmt.body[0]
        if isinstance(imp, cst.Import):
            have_modules.update(alias.evaluated_name for alias in imp.names if alias.asname is None)
            continue
        mod = _absolute_module(imp)
        if mod is None:
            continue
        if isinstance(imp.names, cst.ImportStar):
            have_objects[mod] = {"*"}
            continue
        names = {alias.evaluated_name for alias in imp.names if alias.asname is None}
        if names and "*" not in have_objects.setdefault(mod, set()):
            have_objects[mod].update(names)
    module_imports = {mod for mod, name in imports if name is None} - have_modules
    wanted: dict[str, set[str]] = {}
    for mod, name in imports:
        if name is not None:
            wanted.setdefault(mod, set()).add(name)
    mapping = {mod: wanted[mod] for mod in sorted(wanted)}
    for mod, names in have_objects.items():
        if mod in mapping:
            left = set() if "*" in names else mapping[mod] - names
            if left:
                mapping[mod] = left
            else:
                del mapping[mod]
    # names that go into an existing `from mod import ...` at the top
    merged = False
    for i in range(start, end):
        imp = body[i].body[0]
        if not isinstance(imp, cst.ImportFrom) or isinstance(imp.names, cst.ImportStar):
            continue
        mod = _absolute_module(imp)
        if mod is None or mod not in mapping:
            continue
        added = [cst.ImportAlias(name=cst.Name(name)) for name in sorted(mapping.pop(mod))]
        body[i] = body[i].with_changes(body=[imp.with_changes(names=[*added, *imp.names])])
        merged = True
    if not module_imports and not mapping:
        return module.with_changes(body=body) if merged else module
    config = module.config_for_parsing
    after = body[end:]
    if after:
        first = after[0]
        if not first.leading_lines:
            after[0] = first.with_changes(leading_lines=(cst.EmptyLine(),))
        elif first.leading_lines[0].comment is not None:
            after[0] = first.with_changes(leading_lines=(cst.EmptyLine(), *first.leading_lines))
    lines = {mod: ", ".join(sorted(names)) for mod, names in mapping.items()}
    return module.with_changes(body=[
        *body[:start],
        *[cst.parse_statement(f"from {mod} import {names}", config=config) for mod, names in lines.items()
          if mod == "__future__"],
        *body[start:end],
        *[cst.parse_statement(f"import {mod}", config=config) for mod in sorted(module_imports)],
        *[cst.parse_statement(f"from {mod} import {names}", config=config) for mod, names in lines.items()
          if mod != "__future__"],
        *after,
    ])


def add_import_from(module: cst.Module, text: str, name: str, level: int = 0) -> cst.Module:
    """``from <level dots><text> import name`` where missing, by libcst's
    AddImportsVisitor (it places relative imports, which ``add_imports`` does
    not take). libcst.codemod is imported here, when such a fix is computed:
    importing it takes longer than scanning a small project."""
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, text, name, relative=level)
    return AddImportsVisitor(context).transform_module(module)


def _absolute_module(node: cst.ImportFrom) -> str | None:
    """The module of an absolute ``from ... import`` (None for a relative one)."""
    if node.relative or node.module is None:
        return None
    return dotted_name(node.module)


def _is_single_import(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(
        stmt.body[0], (cst.Import, cst.ImportFrom))


def _skipped_first(stmt: cst.CSTNode) -> bool:
    """What AddImportsVisitor never puts an import above: a ``__strict__`` flag or a docstring."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return False
    small = stmt.body[0]
    if isinstance(small, cst.Expr):
        return isinstance(small.value, cst.SimpleString)
    return isinstance(small, cst.Assign) and len(small.targets) == 1 \
        and isinstance(small.targets[0].target, cst.Name) and small.targets[0].target.value == "__strict__"


def _is_import_stmt(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
    )


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def insert_after_imports(module: cst.Module, statements: list[cst.BaseStatement]) -> cst.Module:
    """Insert module-level statements right after the leading import block."""
    body = list(module.body)
    index = 0
    for i, stmt in enumerate(body):
        if _is_import_stmt(stmt) or (i == 0 and _is_docstring(stmt)):
            index = i + 1
        elif index and not _is_import_stmt(stmt):
            break
    if index and statements and isinstance(statements[0], (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        # a blank line between the imports and the new code, as isort/black would put it
        statements = [statements[0].with_changes(leading_lines=[cst.EmptyLine()])] + list(statements[1:])
    return module.with_changes(body=body[:index] + statements + body[index:])


def calls_function(module: cst.Module, name: str) -> bool:
    found = False

    class V(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            nonlocal found
            func = node.func
            if (isinstance(func, cst.Name) and func.value == name) or (
                isinstance(func, cst.Attribute) and func.attr.value == name
            ):
                found = True

    module.visit(V())
    return found


def ensure_load_dotenv(module: cst.Module) -> cst.Module:
    """``from dotenv import load_dotenv`` and one ``load_dotenv()`` call after the imports."""
    if calls_function(module, "load_dotenv"):
        return module
    module = add_imports(module, ("dotenv", "load_dotenv"))
    return insert_after_imports(module, [cst.parse_statement("load_dotenv()\n")])


def environ_expr(key: str) -> cst.BaseExpression:
    return cst.parse_expression(f'os.environ["{key}"]')


def only_towards(root: cst.CSTNode, targets) -> set[int] | None:
    """The ids of the nodes on the way from ``root`` down to ``targets``: a
    transformer that changes only the targets (and the blocks holding them)
    need not enter any other subtree, where libcst would rebuild every node
    to give back the same code. None when a target is not in the tree's
    parent map (whitespace, punctuation, another tree): walk everything."""
    parents = cstwalk.parent_map(root, TRIVIA)
    keep: set[int] = set()
    for target in targets:
        node = target
        while node is not root:
            parent = parents.get(id(node))
            if parent is None:
                return None
            if id(parent) in keep:
                break
            keep.add(id(parent))
            node = parent
    return keep


class Pruned:
    """Mixin for a CSTTransformer: enter only the nodes in ``self.keep`` (all when None)."""

    keep: set[int] | None = None

    def on_visit(self, node) -> bool:
        if self.keep is not None and id(node) not in self.keep:
            return False
        return super().on_visit(node)


class ReplaceNodes(Pruned, cst.CSTTransformer):
    """Replace nodes by identity: ``{original_node: new_node}`` (None removes a statement)."""

    def __init__(self, replacements: dict):
        super().__init__()
        self.replacements = replacements
        self.done: set[int] = set()

    def on_leave(self, original_node, updated_node):
        if original_node in self.replacements:
            self.done.add(id(original_node))
            new = self.replacements[original_node]
            if new is None:
                return cst.RemoveFromParent()
            return new
        return updated_node


def replace_nodes(module: cst.Module, replacements: dict) -> cst.Module:
    transformer = ReplaceNodes(replacements)
    transformer.keep = only_towards(module, replacements)
    new = module.visit(transformer)
    if len(transformer.done) != len(replacements):
        raise FixError("could not locate the code to change")
    return new


def insert_after_app(module: cst.Module, app_name: str, factory: str | None,
                     statements: list[cst.BaseStatement]) -> cst.Module:
    """Insert statements right after ``app_name = Flask(...)``: at module level, or
    inside the function ``factory`` when the app is built there."""

    def is_app_assign(stmt) -> bool:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return False
        for small in stmt.body:
            if isinstance(small, (cst.Assign, cst.AnnAssign)):
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                if any(isinstance(t, cst.Name) and t.value == app_name for t in targets) and isinstance(small.value, cst.Call):
                    return True
        return False

    def insert(body: list) -> list | None:
        for i, stmt in enumerate(body):
            if is_app_assign(stmt):
                return body[: i + 1] + statements + body[i + 1:]
        return None

    if factory is None:
        new_body = insert(list(module.body))
        if new_body is None:
            raise FixError(f"could not find `{app_name} = Flask(...)`")
        return module.with_changes(body=new_body)

    done = False

    class _InFactory(cst.CSTTransformer):
        def leave_FunctionDef(self, original, updated):
            nonlocal done
            if done or original.name.value != factory or not isinstance(updated.body, cst.IndentedBlock):
                return updated
            new_body = insert(list(updated.body.body))
            if new_body is None:
                return updated
            done = True
            return updated.with_changes(body=updated.body.with_changes(body=new_body))

    module = module.visit(_InFactory())
    if not done:
        raise FixError(f"could not find `{app_name} = Flask(...)` in {factory}()")
    return module


def insert_after_statement(module: cst.Module, anchor: cst.CSTNode, statements: list[cst.BaseStatement]) -> cst.Module:
    """Insert statements right after ``anchor`` (matched by identity, at any depth)."""
    done = []

    class _After(cst.CSTTransformer):
        def _insert(self, body):
            for i, stmt in enumerate(body):
                if stmt is anchor:
                    done.append(True)
                    return body[: i + 1] + list(statements) + body[i + 1:]
            return None

        def leave_IndentedBlock(self, original, updated):
            body = self._insert(list(original.body))
            return updated.with_changes(body=body) if body is not None else updated

        def leave_Module(self, original, updated):
            body = self._insert(list(original.body))
            return updated.with_changes(body=body) if body is not None else updated

    new = module.visit(_After())
    if not done:
        raise FixError("could not find where to insert the new code")
    return new
