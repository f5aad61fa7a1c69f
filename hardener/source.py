"""One file of the project, parsed at most once."""

from __future__ import annotations

import dataclasses
import functools
import re
import types
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import libcst as cst
from libcst._nodes.base import CSTNode
from libcst._position import CodePosition
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import NEWLINE_RE, PositionProvidingCodegenState

from hardener import cstcodegen, cstwalk

# Read-only visitors walk the tree without libcst rebuilding every node (see cstwalk).
cstwalk.install()
# ... and generate code (node source, positions) without contextlib's overhead.
cstcodegen.install()


_UNKNOWN_TAG = re.compile(r"unknown tag '(\w+)'")
# Jinja's own tags that are unknown out of place (an `endif` closing a `for`): errors as they are.
_JINJA_OWN = frozenset({"else", "elif", "endfor", "endif", "endblock", "endmacro", "endcall", "endfilter", "endset",
                        "endwith", "endautoescape", "endtrans", "pluralize", "endraw"})


class _LazyJinja:
    """One shared jinja2 Environment, created on first use (keeps start-up fast).

    Projects add tags of their own with Jinja extensions hardener cannot load
    (CKAN's ``{% snippet %}``, ``{% asset %}``...): a template that uses such a
    tag is parsed again with it read as a statement that prints nothing (its
    ``end...`` tag too), so the rest of the template is still checked. Such
    tags are learned once: later templates are parsed knowing them."""

    _envs: dict = {}
    _learned: frozenset[str] = frozenset()  # the project tags met so far

    def parse(self, text: str):
        import jinja2

        extra = learned = self._learned
        while True:
            try:
                return self._env(extra).parse(text)
            except jinja2.TemplateSyntaxError as exc:
                unknown = _UNKNOWN_TAG.search(exc.message or "")
                if unknown is None or unknown.group(1) in extra or unknown.group(1) in _JINJA_OWN \
                        or len(extra - learned) >= 20:  # at most 20 new ones in one template
                    raise
                extra |= {unknown.group(1)}
                type(self)._learned = extra

    def _env(self, extra: frozenset[str]):
        env = self._envs.get(extra)
        if env is None:
            import jinja2

            # Extensions commonly used in Flask templates, so their tags parse.
            extensions: list = ["jinja2.ext.do", "jinja2.ext.loopcontrols", "jinja2.ext.i18n"]
            if extra:
                extensions.append(type("ProjectTags", (_project_tags_base(),), {"tags": set(extra)}))
            env = self._envs[extra] = jinja2.Environment(extensions=extensions)
        return env


@functools.lru_cache(maxsize=None)
def _project_tags_base():
    import jinja2.ext
    import jinja2.nodes

    class ProjectTags(jinja2.ext.Extension):
        """Tags of a project's own extensions: read, and taken to print nothing."""

        def parse(self, parser):
            token = next(parser.stream)
            while parser.stream.current.type != "block_end":
                next(parser.stream)
            return jinja2.nodes.Output([], lineno=token.lineno)

    return ProjectTags


_JINJA = _LazyJinja()


def parse_jinja(text: str):
    """Jinja's tree of ``text`` (``jinja2.TemplateSyntaxError`` if it is not
    valid), with the extensions Flask templates commonly use."""
    return _JINJA.parse(text)


class ParseError(Exception):
    pass


_VALIDATE = CSTNode.__post_init__


def _skip_validation(self) -> None:
    pass


_SimpleWhitespace, _Newline = cst.SimpleWhitespace, cst.Newline


class _Shared(dict):
    """value -> the one node of ``kind`` with it (the first 4096 values)."""

    def __init__(self, kind: type):
        super().__init__()
        self.kind = kind

    def __missing__(self, value) -> cst.CSTNode:
        node = self.kind(value)
        if len(self) < 4096:
            self[value] = node
        return node


_WHITESPACE, _NEWLINES = _Shared(_SimpleWhitespace), _Shared(_Newline)


# the parser calls these a million times for a large project: a dict lookup each
def _shared_whitespace(value: str = "") -> cst.SimpleWhitespace:
    return _WHITESPACE[value]


def _shared_newline(value: str | None = None) -> cst.Newline:
    return _NEWLINES[value]


_NO_VALUE = object()


def _fast_init(cls: type):
    """An ``__init__`` for the node class ``cls`` that stores each field with
    its slot's own setter and calls no ``__post_init__`` (used while
    ``parse_unvalidated`` runs). The dataclass one goes through
    ``object.__setattr__`` once per field (the classes are frozen) and then
    validation; the parameters and defaults are the same. None if a field
    cannot be stored this way."""
    names: dict[str, object] = {"_h_none": _NO_VALUE}
    params, body = [], []
    for i, f in enumerate(dataclasses.fields(cls)):
        slot = getattr(cls, f.name, None)
        if not f.init or f.kw_only or not isinstance(slot, types.MemberDescriptorType):
            return None
        names[f"_h_set{i}"] = slot.__set__
        if f.default is not dataclasses.MISSING:
            names[f"_h_default{i}"] = f.default
            params.append(f"{f.name}=_h_default{i}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_h_factory{i}"] = f.default_factory
            params.append(f"{f.name}=_h_none")
            body.append(f"    if {f.name} is _h_none:\n        {f.name} = _h_factory{i}()")
        else:
            params.append(f.name)
        body.append(f"    _h_set{i}(self, {f.name})")
    signature = ", ".join(["self"] + params)  # the dataclass's own order
    exec(f"def __init__({signature}):\n" + "\n".join(body or ["    pass"]) + "\n", names)
    return names["__init__"]


_INITS: list[tuple[type, object, object]] | None = None  # (class, dataclass __init__, fast __init__)


def _node_inits() -> list[tuple[type, object, object]]:
    global _INITS
    if _INITS is None:
        _INITS = []
        for name in dir(cst):
            cls = getattr(cst, name)
            if isinstance(cls, type) and issubclass(cls, CSTNode) and dataclasses.is_dataclass(cls) \
                    and "__init__" in cls.__dict__:
                fast = _fast_init(cls)
                if fast is not None:
                    _INITS.append((cls, cls.__dict__["__init__"], fast))
    return _INITS


def parse_unvalidated(data: bytes) -> cst.Module:
    """``cst.parse_module``, cheaper:

    * without each node's ``_validate()`` (called from
      ``CSTNode.__post_init__``, a seventh of the parse): it checks nodes
      built by hand, and the parser only builds valid ones. Nodes built by a
      fix in another thread meanwhile also skip it; their code is still
      parsed and compiled before it is staged (``apply.stage``);
    * with one shared node for each whitespace run and newline (a third of a
      tree's nodes are ``SimpleWhitespace("")``, ``SimpleWhitespace(" ")`` or
      ``Newline()``). They are immutable and leafs; nothing looks one up by
      identity (parent maps and the compact positions leave them out). The
      native parser builds nodes through the ``libcst`` module's names, so
      those two stand in for the classes while it runs.
    """
    inits = _node_inits()
    CSTNode.__post_init__ = _skip_validation
    cst.SimpleWhitespace, cst.Newline = _shared_whitespace, _shared_newline
    for cls, _slow, fast in inits:
        cls.__init__ = fast
    try:
        return cst.parse_module(data)
    finally:
        for cls, slow, _fast in inits:
            cls.__init__ = slow
        CSTNode.__post_init__ = _VALIDATE
        cst.SimpleWhitespace, cst.Newline = _SimpleWhitespace, _Newline


def one_line_reason(exc: Exception) -> str:
    """libcst's messages are multi-line with a caret picture: keep the first line."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else exc.__class__.__name__
    if isinstance(exc, cst.ParserSyntaxError):
        return f"syntax error at line {exc.raw_line}, column {exc.raw_column + 1}: {exc.message}"
    return first


@dataclass(eq=False)
class PythonFile:
    path: str  # relative to the root, with "/"
    data: bytes

    parse_error: str | None = field(default=None, init=False)

    @cached_property
    def module(self) -> cst.Module:
        if self.parse_error is not None:
            raise ParseError(self.parse_error)
        try:
            return self._parse()
        except ParseError as exc:
            self.parse_error = str(exc)
            raise

    def _parse(self) -> cst.Module:
        if b"\0" in self.data:
            raise ParseError("file contains a NUL byte")
        try:
            return parse_unvalidated(self.data)
        except cst.ParserSyntaxError as exc:
            raise ParseError(one_line_reason(exc)) from None
        except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
            raise ParseError(f"cannot decode: {exc}") from None
        except RecursionError:
            raise ParseError("too deeply nested to parse") from None
        except Exception as exc:  # libcst raises a few others on odd input
            raise ParseError(one_line_reason(exc)) from None

    @property
    def parsed(self) -> bool:
        """Has the tree been built (``module`` is ready)?"""
        return "module" in self.__dict__

    def syntax_ok(self) -> bool:
        """Does CPython's own parser (several times faster than libcst's) accept
        the file? Used to skip building a tree nobody needs; a file it rejects
        is parsed with libcst for the exact reason."""
        import ast
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compile(self.data, self.path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError, UnicodeError, LookupError):
            return False
        return True

    @cached_property
    def wrapper(self) -> MetadataWrapper:
        # The module is never mutated, so the defensive deep copy is skipped:
        # nodes found by rules stay the very nodes the positions refer to.
        return MetadataWrapper(self.module, unsafe_skip_copy=True)

    @cached_property
    def positions(self):
        """libcst's own map of every node to its range (large: see ``position``)."""
        return self.wrapper.resolve(PositionProvider)

    def position(self, node: cst.CSTNode) -> CodeRange:
        if "positions" in self.__dict__:
            return self.positions[node]
        value = self._statement_position(node) if "_packed_positions" not in self.__dict__ else None
        if value is None:
            value = self._packed_positions.get(node)
        if value is None:
            if type(node) in TRIVIA:  # never kept in the compact map: use libcst's full one
                return self.positions[node]
            raise KeyError(node)
        return CodeRange(
            CodePosition(value >> 96, (value >> 64) & _MASK), CodePosition((value >> 32) & _MASK, value & _MASK)
        )

    def _statement_position(self, node: cst.CSTNode) -> int | None:
        """The packed range of ``node`` from the code generation of only the
        top-level statement that holds it (rules report at a few nodes in a
        few statements; generating the whole module costs ten times more).

        The statement's code is found in the file's text to know its first
        line; when it is not there exactly once (the same statement twice, the
        last line without a newline) the answer is None and the caller falls
        back to the whole module's map. Columns need no shift: a top-level
        statement starts a line."""
        partial = self.__dict__.get("_partial_positions")
        if partial is None:
            partial = self.__dict__["_partial_positions"] = {}
        value = partial.get(node)
        if value is not None:
            return value
        module = self.module
        parents = cstwalk.parent_map(module, TRIVIA)
        top = node
        while True:
            parent = parents.get(id(top))
            if parent is None:
                if node is module or type(node) in TRIVIA:
                    return None  # asked of the whole map
                raise KeyError(node)  # a node of another tree
            if parent is module:
                break
            top = parent
        if top in partial:
            return None  # generated already: the node has no range of its own
        provider = _Collector()
        state = _PositionState(default_indent=module.default_indent, default_newline=module.default_newline,
                               provider=provider)
        top._codegen(state)
        code = "".join(state.tokens)
        text = self.text
        at = text.find(code)
        if at < 0 or text.find(code, at + 1) >= 0:
            return None
        shift = len(NEWLINE_RE.findall(text, 0, at))
        shift = (shift << 96) | (shift << 32)
        for n, r in provider._computed.items():
            if type(n) not in TRIVIA:
                partial[n] = _pack(r) + shift
        return partial.get(node)

    @cached_property
    def _packed_positions(self) -> dict[cst.CSTNode, int]:
        """Every node's range as one int, whitespace and punctuation left out.

        The same code generation libcst's PositionProvider runs (so the same
        ranges), kept in about a sixth of the memory: rules ask for the
        position of a few statements and expressions per file, and libcst's
        map holds three objects for each of the thousands of nodes."""
        provider = _Collector()
        state = _PositionState(
            default_indent=self.module.default_indent, default_newline=self.module.default_newline, provider=provider,
        )
        self.module._codegen(state)
        return {
            node: _pack(r)
            for node, r in provider._computed.items() if type(node) not in TRIVIA
        }

    @cached_property
    def text(self) -> str:
        # libcst gives back exactly the bytes it parsed, so the module's code is
        # the file decoded with the encoding libcst found (BOM, coding cookie);
        # generating it would walk the whole tree
        module = self.module
        try:
            return self.data.decode(module.encoding)
        except (UnicodeDecodeError, LookupError):
            return module.code

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return ""

    def memo(self, key: str, compute: Callable[[], object]):
        """``compute()``, once per content of this file in a process: the
        scanner reuses a PythonFile (and its tree) while the file's bytes are
        unchanged, across the rounds of ``--apply-all`` and a review's
        rescans. Only for what depends on nothing but this module's own tree,
        path and imports, never on other modules or the project model."""
        memos = self.__dict__.get("_memos")
        if memos is None:
            memos = self.__dict__["_memos"] = {}
        if key not in memos:
            memos[key] = compute()
        return memos[key]

    def code_for(self, node: cst.CSTNode) -> str:
        """The source of ``node`` (kept: several rules ask for the same
        functions' code, and generating it walks the whole subtree)."""
        codes = self.__dict__.get("_codes")
        if codes is None:
            codes = self.__dict__["_codes"] = {}
        hit = codes.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        code = self.module.code_for_node(node)
        codes[id(node)] = (node, code)
        return code


_MASK = (1 << 32) - 1


def _pack(r: CodeRange) -> int:
    """A range as one int (what ``position`` unpacks)."""
    return (r.start.line << 96) | (r.start.column << 64) | (r.end.line << 32) | r.end.column


class _Syntactic:
    """PositionProvidingCodegenState.record_syntactic_position as a plain context
    manager class (libcst's is a generator-based one, a large share of the time
    spent computing positions): the same ranges, recorded the same way."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state, node, start_node, end_node):
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self):
        self.start = CodePosition(self.state.line, self.state.column)

    def __exit__(self, *exc) -> bool:
        state = self.state
        end = CodePosition(state.line, state.column)
        computed = state.provider._computed
        start = computed[self.start_node].start if self.start_node is not None else self.start
        end = computed[self.end_node].end if self.end_node is not None else end
        computed[self.node] = CodeRange(start, end)
        return False


class _PositionState(PositionProvidingCodegenState):
    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _Syntactic(self, node, start_node, end_node)


class _Collector:
    """Stands in for the metadata provider the position code generation writes to."""

    def __init__(self):
        self._computed: dict[cst.CSTNode, CodeRange] = {}


# Node types no rule reports at: whitespace, comments and punctuation.
TRIVIA = frozenset({
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline,
    cst.Comment, cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.LeftParen, cst.RightParen,
    cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace,
})


@dataclass(eq=False)
class TemplateFile:
    path: str
    data: bytes

    @cached_property
    def text(self) -> str:
        data = self.data
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        return data.decode("utf-8", errors="surrogateescape")

    @property
    def has_bom(self) -> bool:
        return self.data.startswith(b"\xef\xbb\xbf")

    def encode(self, text: str) -> bytes:
        out = text.encode("utf-8", errors="surrogateescape")
        return (b"\xef\xbb\xbf" + out) if self.has_bom else out

    @cached_property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""

    def syntax_error(self) -> str | None:
        """A one-line reason if Jinja cannot parse the template, else None."""
        if "_syntax_error" not in self.__dict__:
            self.__dict__["_syntax_error"] = self._check_syntax()
        return self.__dict__["_syntax_error"]

    def _check_syntax(self) -> str | None:
        try:
            import jinja2
        except ImportError:  # Flask brings jinja2; without it there is nothing to check against
            return None
        try:
            parse_jinja(self.text)
        except jinja2.TemplateSyntaxError as exc:
            return f"not valid Jinja at line {exc.lineno}: {exc.message}"
        except Exception as exc:
            return f"not valid Jinja: {exc.__class__.__name__}"
        return None

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line = self.text.count("\n", 0, offset) + 1
        start = self.text.rfind("\n", 0, offset) + 1
        return line, offset - start + 1


@dataclass
class SuppressionComment:
    """One ``hardener: ignore`` comment, where it is and what it names."""

    line: int
    column: int  # 1-based, where "hardener:" starts
    end_column: int
    codes: frozenset[str] | None  # None: every code
    file_level: bool
    text: str  # the matched text, e.g. "hardener: ignore[H101]"


@dataclass
class Suppressions:
    """``# hardener: ignore[CODE, ...]`` per line, and file-wide ``# hardener: ignore-file``.

    In Python files only real comments count (a string that happens to contain
    the words does not); in templates the Jinja comment form
    ``{# hardener: ignore[CODE] #}`` is used. ``kind=None`` keeps the plain
    per-line text match for other files.
    """

    by_line: dict[int, set[str] | None] = field(default_factory=dict)  # None = all codes
    file_codes: set[str] | None = field(default_factory=set)  # None = whole file
    used: set[tuple[int, str]] = field(default_factory=set)
    comments: list[SuppressionComment] = field(default_factory=list)
    used_file: set[str] = field(default_factory=set)  # codes a file-level suppression hid
    # line -> the codes of ours another tool's comment there silences (`# nosec B608`)
    by_tool: dict[int, set[str]] = field(default_factory=dict)

    PATTERN = re.compile(r"hardener:\s*ignore(-file)?(?:\[([A-Za-z0-9_,\s]*)\])?")
    JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
    # bandit's `# nosec B608, B105` and ruff's (flake8-bandit's) `# noqa: S608`
    TOOL_PATTERN = re.compile(r"#\s*(?:nosec\b:?|noqa\s*:)\s*((?:[A-Z]+\d+[\s,]*)+)")

    @classmethod
    def parse(cls, text: str, kind: str | None = None, tools: bool = False) -> "Suppressions":
        """``tools``: also honour bandit's and ruff's comments in Python files
        (``TOOL_CODES``; a bare ``# nosec`` or ``# noqa`` names nothing of ours)."""
        sup = cls()
        if tools and kind == "python" and ("nosec" in text or "noqa" in text):
            for number, _column, comment in _python_comments(text, ("nosec", "noqa")) or ():
                for m in cls.TOOL_PATTERN.finditer(comment):
                    ours = {c for code in re.findall(r"[A-Z]+\d+", m.group(1)) for c in TOOL_CODES.get(code, ())}
                    if ours:
                        sup.by_tool.setdefault(number, set()).update(ours)
        if "hardener:" not in text:
            return sup
        for number, column, chunk in cls._candidates(text, kind):
            for m in cls.PATTERN.finditer(chunk):
                sup._add(number, column + m.start(), m)
        return sup

    @classmethod
    def _candidates(cls, text: str, kind: str | None):
        """(line, 1-based column, text) of the places a suppression may be written."""
        if kind == "python":
            comments = _python_comments(text)
            if comments is not None:
                yield from comments
                return
        if kind == "template":
            for m in cls.JINJA_COMMENT.finditer(text):
                body = m.group(0)
                if "hardener:" not in body:
                    continue
                start = m.start()
                for i, part in enumerate(body.split("\n")):
                    if "hardener:" in part:
                        line = text.count("\n", 0, start) + 1 + i
                        line_start = text.rfind("\n", 0, start) + 1 if i == 0 else None
                        column = (start - line_start + 1) if i == 0 else 1
                        yield line, column, part
            return
        for number, line in enumerate(text.splitlines(), 1):
            if "hardener:" in line:
                yield number, 1, line

    def _add(self, number: int, column: int, m: re.Match) -> None:
        codes = {c.strip().upper() for c in (m.group(2) or "").split(",") if c.strip()} or None
        self.comments.append(SuppressionComment(
            number, column, column + len(m.group(0)), frozenset(codes) if codes else None, bool(m.group(1)), m.group(0),
        ))
        if m.group(1):
            if codes is None or self.file_codes is None:
                self.file_codes = None
            else:
                self.file_codes |= codes
        else:
            prev = self.by_line.get(number, set())
            self.by_line[number] = None if codes is None or prev is None else prev | codes

    def suppresses(self, code: str, line: int, end_line: int | None = None) -> bool:
        if self.by_tool and any(code in self.by_tool.get(ln, ()) for ln in range(line, (end_line or line) + 1)):
            return True  # on any line of what is reported: bandit and ruff report a node's own line
        for ln in {line, end_line or line}:
            if ln in self.by_line:
                codes = self.by_line[ln]
                if codes is None or code in codes:
                    self.used.add((ln, code))
                    return True
        if self.file_codes is None or code in self.file_codes:
            self.used_file.add(code)
            return True
        return False

    def unused(self, ran: set[str], known: set[str]) -> list[tuple[SuppressionComment, str, frozenset[str]]]:
        """Comments (or codes in them) that hid no finding in this scan:
        (comment, why, the codes to drop; empty for a comment without codes).

        ``ran`` are the codes of the rules that ran: a code whose rule did not
        run cannot be judged and is left alone; ``known`` are all rule codes.
        """
        out = []
        for c in self.comments:
            if c.file_level:
                hit = bool(self.used_file) if c.codes is None else None
                used_codes = self.used_file
            else:
                hit = any(ln == c.line for ln, _ in self.used) if c.codes is None else None
                used_codes = {code for ln, code in self.used if ln == c.line}
            if c.codes is None:
                if not hit:
                    out.append((c, "suppresses every rule but hides no finding", frozenset()))
                continue
            problems, drop = [], set()
            for code in sorted(c.codes):
                if code not in known:
                    problems.append(f"{code} is not a rule code")
                    drop.add(code)
                elif code in ran and code not in used_codes:
                    problems.append(f"{code} hides no finding")
                    drop.add(code)
            if problems:
                out.append((c, "; ".join(problems), frozenset(drop)))
        return out


# Other tools' codes for what a rule of ours reports: a line a developer marked
# `# nosec B608` (bandit) or `# noqa: S608` (ruff) after a review is not reported again.
TOOL_CODES = {
    "B608": ("H301",), "S608": ("H301",),  # SQL built from strings
    "B105": ("H102", "H103"), "B106": ("H102", "H103"), "B107": ("H102", "H103"),  # hard-coded secrets
    "S105": ("H102", "H103"), "S106": ("H102", "H103"), "S107": ("H102", "H103"),
    "B201": ("H101",), "S201": ("H101",),  # Flask debug mode
    "B701": ("H314",), "S701": ("H314",),  # jinja2 autoescape off
    "B704": ("H312",), "S704": ("H312",),  # Markup() of unescaped data
    "B324": ("H502",), "S324": ("H502",), "B303": ("H502",), "S303": ("H502",),  # md5 / sha1
}


def _python_comments(text: str, words: tuple[str, ...] = ("hardener:",)):
    """(line, column, comment) for every comment token holding one of ``words``, or
    None if the file does not tokenize."""
    import io
    import tokenize

    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT and any(w in tok.string for w in words):
                out.append((tok.start[0], tok.start[1] + 1, tok.string))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return out
