"""H501 plaintext-password and H502 weak-password-hash: passwords stored or
compared as they are, or hashed with a fast unsalted digest.

Both rules fix a project as a whole: the places that store a password and
the places that check one change together (werkzeug.security's
``generate_password_hash`` / ``check_password_hash``), or not at all,
because hashing at one end only would lock every user out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports
from hardener.models import Confidence, Fix, Safety, Severity
from hardener.project import dotted_name, is_test_path, string_value
from hardener.rules import Example, Rule, register
from hardener.source import ParseError

from ._flaskapi import call_name, calls_in, facts_or_imports
from ._flow import (REQUEST_SOURCES, LazyParents, assignment_of, callee_name, enclosing, formatted,
                    request_names, rewrite, string_literal, tainted_names, uses)

PLAIN = re.compile(r"^(password|passwd|pwd|pass|pw|user_password|plain_password|raw_password)$", re.I)
PASSWORDISH = re.compile(r"pass|pwd|\bpw\b|pw_?hash", re.I)
HASHED_NAME = re.compile(r"(pass|pwd|pw_?hash|hashed)", re.I)
ENCRYPTED_TYPE = re.compile(r"vault|encrypt|cipher|fernet", re.I)  # column types that encrypt
HASHED_WORD = re.compile(r"hash|crypt|digest", re.I)  # a value so named holds no password as typed
# where a password the client typed comes from: request data, and HTTP Basic credentials
TYPED_SOURCES = REQUEST_SOURCES | {"authorization"}
# a password the app's own configuration holds (app.config["PASSWORD"], settings.PASSWORD): one
# shared password set by whoever deploys the app, not users' passwords kept in a database
CONFIGURED = re.compile(r"(?:^|\.)(?:config|settings|environ)\b", re.I)
CONFIRMATION = re.compile(r"confirm|repeat|again|retype|verif|(?:pass\w*?|pwd?)_?2\b", re.I)  # password_2, password2
# Credentials the app sends to another service (a proxy, a mail or database
# server) are kept as they are: they are not the app's users' passwords.
OUTBOUND = re.compile(r"proxy|smtp|imap|pop3|ftp|ldap|(?<![a-z])mail|redis|upstream|(?<![a-z])conn(?:ect|ection)?"
                      r"|database|engine|dsn|tunnel|ssh|publish|cred(?!it)|param|config|backend|server|client|provider"
                      r"|resolver|securitymodule|hsm"
                      r"|crypt|cipher", re.I)  # the passphrase a file or a key is encrypted with


def _outbound_name(name: str) -> bool:
    """Whether a class name says OUTBOUND, as written (``HardwareSecurityModule``)
    or with its words split (``IRCConnection``: IRC Connection)."""
    words = re.sub(r"(?<=[a-z\d])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return OUTBOUND.search(name) is not None or OUTBOUND.search(words) is not None


SQL_COL = r"(?:password|passwd|pwd)"
# Byte prefilters: what a module must hold to have a PLAIN name or a SQL_COL
# column (`pw` / `pwd` as whole words; `pass` is a keyword, so as a name it
# can only be a string such as `row["pass"]`), or a HASHED_NAME (a name
# holding `pass` is longer than the keyword).
_PW_WORD = re.compile(rb"\bpwd?\b")
_QUOTED_PASS = re.compile(rb"['\"]pass['\"]")


def _may_name_passwords(data: bytes) -> bool:
    """``passw``, ``pw`` or ``pwd`` as a word, or ``"pass"`` as a string, in
    any case (plain substring tests first: one regex with all of it is slow)."""
    low = data.lower()
    return (b"passw" in low or (b"pass" in low and _QUOTED_PASS.search(low) is not None)
            or (b"pw" in low and _PW_WORD.search(low) is not None))


HASHED_BYTES = re.compile(rb"\wpass|pass\w|pwd|pw_?hash|hashed", re.I)
# a module that logs in to another service: it imports an HTTP client and nothing of a web app
# or a database (a music server's API token, md5(password + salt)); its digests are that
# service's protocol, not how this app stores passwords
HTTP_CLIENT = re.compile(rb"^[ \t]*(?:import|from)[ \t]+(?:requests|httpx|aiohttp|urllib3|urllib\.request|http\.client)\b",
                         re.M)
SERVER_SIDE = re.compile(rb"^[ \t]*(?:import|from)[ \t]+(?:flask\w*|werkzeug|sqlalchemy|sqlite3|psycopg\w*|pymysql|"
                         rb"MySQLdb|mysql|peewee|pymongo|django|bcrypt|passlib)\b", re.M)
WEAK = {"md5", "sha1"}
FAST = {"sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s"}
SCRYPT_LEN = 162  # werkzeug's default scrypt hash
PBKDF2 = "pbkdf2:sha256"
PBKDF2_LEN = 103
DRIVERS = {"sqlite3": "?", "psycopg2": "%s", "psycopg": "%s", "pymysql": "%s", "MySQLdb": "%s", "mysql": "%s"}
MIGRATION = {
    "H501": ("Passwords already in the database are plaintext and no longer match: hash them once, e.g. "
             "`for each user: user.password = generate_password_hash(user.password)` (or an UPDATE in a migration "
             "script), in the same deploy as this change"),
    "H502": ("Stored digests cannot be converted: force a password reset, or keep the old check for a transition "
             "(when check_password_hash fails and the stored value equals the old digest of the password, store "
             "generate_password_hash(password) and let the user in), then drop it"),
}
REVIEW_REASON = "passwords already stored in the old form stop matching until they are migrated (see the notes)"


@dataclass(eq=False)
class Site:
    kind: str  # store | compare
    file: object
    node: cst.CSTNode  # what the finding points at
    message: str
    replace: dict = field(default_factory=dict)  # node -> new node (built lazily by ``build``)
    after: dict = field(default_factory=dict)  # statement -> statements
    problem: str | None = None  # why it cannot be fixed automatically
    attr: str | None = None  # the attribute / column that stores the hash
    build: object = None  # callable(method) -> (replace, after)


def _gen(value: cst.BaseExpression, method: str | None) -> cst.Call:
    args = [cst.Arg(value)]
    if method:
        args = [cst.Arg(value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Arg(cst.SimpleString(f'"{method}"'), keyword=cst.Name("method"),
                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))]
    return cst.Call(cst.Name("generate_password_hash"), args)


def _check(stored: cst.BaseExpression, given: cst.BaseExpression, negate: bool = False) -> cst.BaseExpression:
    call = cst.Call(cst.Name("check_password_hash"), [
        cst.Arg(stored, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(given)])
    return cst.UnaryOperation(cst.Not(), call) if negate else call


def _last_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return string_value(node.slice[0].slice.value)
    return None


def _is_hashing_call(node) -> bool:
    """A call to something that hashes, anywhere in a call chain (``bcrypt.generate_password_hash(p).decode()``)."""
    while isinstance(node, cst.Call):
        name = callee_name(node)
        if re.search(r"hash|salt|pbkdf2|scrypt|argon2", name, re.I) or name in ("hexdigest", "digest", "encrypt", "crypt"):
            return True
        node = node.func.value if isinstance(node.func, cst.Attribute) else None
    return False


def _column_lengths(project) -> dict[str, int]:
    """attribute -> declared String(N) length, over the project's model classes."""
    cache = project.__dict__.get("_password_columns")
    if cache is not None:
        return cache
    out: dict[str, int] = {}
    for path, file in project.python.items():
        if b"Column" not in file.data and b"mapped_column" not in file.data or not HASHED_BYTES.search(file.data):
            continue
        try:
            module = file.module
        except Exception:
            continue

        class V(cst.CSTVisitor):
            def visit_Assign(self, node: cst.Assign) -> None:
                if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
                    return
                name = node.targets[0].target.value
                if not HASHED_NAME.search(name) or not isinstance(node.value, cst.Call):
                    return
                if callee_name(node.value) not in ("Column", "mapped_column"):
                    return
                for arg in node.value.args:
                    value = arg.value
                    if isinstance(value, cst.Call) and callee_name(value) in ("String", "Unicode", "VARCHAR") \
                            and value.args and isinstance(value.args[0].value, cst.Integer):
                        out[name] = min(out.get(name, 10 ** 6), int(value.args[0].value.value))

        module.visit(V())
    project.__dict__["_password_columns"] = out
    return out


class _HashingSetters(cst.CSTVisitor):
    """Password attributes of the classes visited whose setter hashes what it
    is given: ``@password.setter`` (a property or SQLAlchemy hybrid property),
    ``password = property(get, set)`` (also as a ``synonym``'s descriptor), a
    sqlalchemy-utils ``PasswordType`` column, a descriptor class of the
    project whose ``__set__`` hashes, or a SQLAlchemy listener that hashes
    before every insert and update of the class. Password columns declared
    without such a setter are ``plain``."""

    def __init__(self):
        self.hashing: set[str] = set()
        self.plain: set[str] = set()
        self.descriptors: set[str] = set()  # classes whose __set__ hashes
        self.assigned: dict[str, set[str]] = {}  # attribute -> classes of the objects it is set to
        self.listened: dict[str, set[str]] = {}  # this module's classes -> functions listening to their writes
        self.functions: dict[str, cst.FunctionDef] = {}  # this module's functions

    def visit_Module(self, node: cst.Module) -> None:
        """SQLAlchemy listeners of this module that run before every insert and update
        (``listen(User, "before_insert", hash_password)`` and ``"before_update"``)."""
        events: dict[tuple[str, str], set[str]] = {}
        for stmt in node.body:
            calls = []
            if isinstance(stmt, cst.SimpleStatementLine):
                calls = [small.value for small in stmt.body if isinstance(small, cst.Expr)
                         and isinstance(small.value, cst.Call)]
            elif isinstance(stmt, cst.FunctionDef):
                calls = [d.decorator for d in stmt.decorators if isinstance(d.decorator, cst.Call)]
            for call in calls:
                name = callee_name(call)
                args = [a.value for a in call.args if a.keyword is None]
                if name not in ("listen", "listens_for") or len(args) < 2 or not isinstance(args[0], cst.Name):
                    continue
                func = stmt.name.value if isinstance(stmt, cst.FunctionDef) else \
                    args[2].value if len(args) > 2 and isinstance(args[2], cst.Name) else None
                if func is not None:
                    events.setdefault((args[0].value, func), set()).add(string_value(args[1]) or "")
        self.listened = {}
        for (cls, func), kinds in events.items():
            if {"before_insert", "before_update"} <= kinds:
                self.listened.setdefault(cls, set()).add(func)
        self.functions = {s.name.value: s for s in node.body if isinstance(s, cst.FunctionDef)}

    def _listener_hashes(self, cls: str, methods: dict[str, cst.FunctionDef]) -> bool:
        """Whether a listener of ``cls``'s inserts and updates hashes: itself, or
        through a method of the class it calls (``target.hash_password()``)."""
        for name in self.listened.get(cls, ()):
            func = self.functions.get(name)
            if func is None:
                continue
            for call in [func] + [methods[c.func.attr.value] for c in calls_in(func)
                                  if isinstance(c.func, cst.Attribute) and c.func.attr.value in methods]:
                if _hashes(call):
                    return True
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        methods = {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}
        if "__set__" in methods and _hashes(methods["__set__"]):
            self.descriptors.add(node.name.value)
        hashing, declared = set(), set()
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                for d in stmt.decorators:
                    owner, _, attr = (dotted_name(d.decorator) or "").rpartition(".")
                    if attr == "setter" and PLAIN.match(owner) and _hashes(stmt):
                        hashing.add(owner)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    target = small.targets[0].target if isinstance(small, cst.Assign) and len(small.targets) == 1 \
                        else small.target if isinstance(small, cst.AnnAssign) and small.value is not None else None
                    if not isinstance(target, cst.Name) or not PLAIN.match(target.value):
                        continue
                    if _setter_hashes(small.value, methods):
                        hashing.add(target.value)
                    elif isinstance(small.value, cst.Call) and callee_name(small.value) in ("Column", "mapped_column"):
                        if not _encrypted_column(small.value):
                            declared.add(target.value)
                    elif isinstance(small.value, cst.Call):  # a descriptor, perhaps: see ``hashing_names``
                        self.assigned.setdefault(target.value, set()).add(callee_name(small.value))
        if declared and self._listener_hashes(node.name.value, methods):
            hashing |= declared  # hashed before every insert and update
        self.hashing |= hashing
        self.plain |= declared - hashing

    def hashing_names(self) -> set[str]:
        """What every class visited says, with descriptors (``password =
        PasswordProperty('password_hash')``, whose ``__set__`` hashes) resolved."""
        through_descriptors = {name for name, classes in self.assigned.items() if classes & self.descriptors}
        return (self.hashing | through_descriptors) - self.plain


def _encrypted_column(column: cst.Call) -> bool:
    """A column whose type encrypts what is stored (``Column(Vault)``,
    sqlalchemy-utils' ``StringEncryptedType(...)``): not stored as typed."""
    kinds = [a.value for a in column.args if a.keyword is None or a.keyword.value == "type_"]
    return any(ENCRYPTED_TYPE.search(callee_name(k) if isinstance(k, cst.Call) else dotted_name(k) or "")
               for k in kinds)


def _hashes(node: cst.CSTNode) -> bool:
    """Whether a hashing call is made anywhere in ``node``."""
    return any(_is_hashing_call(call) for call in calls_in(node))


def _setter_hashes(value: cst.BaseExpression, methods: dict[str, cst.FunctionDef]) -> bool:
    for call in [value, *calls_in(value)] if isinstance(value, cst.Call) else ():
        name = callee_name(call)
        if name == "PasswordType":
            return True
        if name != "property":
            continue
        positional = [a for a in call.args if a.keyword is None]
        setter = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "fset"),
                      positional[1].value if len(positional) > 1 else None)
        if isinstance(setter, cst.Name) and setter.value in methods and _hashes(methods[setter.value]):
            return True
        if isinstance(setter, cst.Lambda) and _hashes(setter):
            return True
    return False


def _hashing_attributes(project) -> set[str]:
    """Password attribute names whose setter hashes, in the project's classes
    (and no other class has a plain column of that name: an assignment could
    then be to either)."""
    cache = project.__dict__.get("_hashing_setters")
    if cache is None:
        visitor = _HashingSetters()
        for path, file in project.python.items():
            data = file.data
            if is_test_path(path) or not (b"setter" in data or b"roperty" in data or b"Column" in data
                                          or b"__set__" in data or b"listen" in data) or not _may_name_passwords(data):
                continue
            try:
                file.module.visit(visitor)
            except ParseError:
                continue
        cache = project.__dict__["_hashing_setters"] = visitor.hashing_names()
    return cache


def _through_hashing_setter(site: Site, names: set[str]) -> bool:
    """A store of the password as typed into an attribute whose setter hashes it
    (``user.password = form.password.data``, ``User(password=...)``, which sets
    the attribute): the setter does the hashing. What such an attribute is
    compared with is not compared with a plaintext password either (what it
    gives back is the hash, or an object that checks against it)."""
    node = site.node
    if isinstance(node, cst.Comparison):
        sides = (node.left, node.comparisons[0].comparator)
        return site.kind == "compare" and any(isinstance(x, cst.Attribute) and x.attr.value in names for x in sides)
    if site.kind != "store" or site.attr not in names:
        return False
    return isinstance(node, cst.Arg) or isinstance(node, cst.Assign) and isinstance(node.targets[0].target, cst.Attribute)


def _method_for(project, sites: list[Site]) -> tuple[str | None, str | None]:
    """(method argument or None, problem) for the narrowest column the hashes go to."""
    lengths = _column_lengths(project)
    narrowest = min((lengths[s.attr] for s in sites if s.attr in lengths), default=None)
    if narrowest is None or narrowest >= SCRYPT_LEN:
        return None, None
    if narrowest >= PBKDF2_LEN:
        return PBKDF2, None
    return None, f"the password column holds {narrowest} characters, too few for a salted hash (widen it to 255)"


# --------------------------------------------------------------------------- SQL text


def _sql_literal(node) -> str | None:
    """The SQL of a plain one-piece string literal (edited in place), else None."""
    if isinstance(node, cst.SimpleString) and "b" not in node.prefix.lower():
        return string_value(node)
    return None


def _split_values(text: str) -> list[str]:
    out, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [v.strip() for v in out]


PLACEHOLDER = re.compile(r"\?|%s|%\((\w+)\)s|(?<![:\w]):(\w+)")


def _paramstyle(facts) -> str | None:
    for module in facts.imported_modules | set(facts.imports.values()):
        head = module.split(".")[0]
        if head in DRIVERS:
            return DRIVERS[head]
    return None


def _param_slot(params: cst.BaseExpression | None, index: int, name: str | None):
    """The params element for the index-th positional placeholder or a named one."""
    if params is None:
        return None
    if name is not None:
        if isinstance(params, cst.Dict):
            for element in params.elements:
                if isinstance(element, cst.DictElement) and string_value(element.key) == name:
                    return element.value
        return None
    if isinstance(params, (cst.Tuple, cst.List)) and index < len(params.elements) \
            and not any(isinstance(e, cst.StarredElement) for e in params.elements):
        return params.elements[index].value
    return None


# --------------------------------------------------------------------------- H501 sites


def _names_assigned_hashes(module: cst.Module) -> set[str]:
    """Names that some assignment in the module binds to a hashing call."""
    out: set[str] = set()

    class V(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            if _is_hashing_call(node.value):
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        out.add(target.target.value)

    module.visit(V())
    return out


def _recoded(node: cst.BaseExpression) -> cst.BaseExpression:
    """``x`` of ``x.encode("utf-8")``, ``x.decode()``, ``x.strip()``, ``str(x)``: the same password."""
    while isinstance(node, cst.Call):
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("encode", "decode", "strip"):
            node = node.func.value
        elif isinstance(node.func, cst.Name) and node.func.value in ("str", "bytes") and len(node.args) >= 1:
            node = node.args[0].value
        else:
            break
    return node


def _configured(node: cst.BaseExpression) -> bool:
    """``app.config.get("PASSWORD", "")``, ``current_app.config["PASSWORD"]``,
    ``os.environ.get(...)``, ``os.getenv(...)``: a value the deployment sets."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get":
        node = node.func.value
    elif isinstance(node, cst.Call):
        return dotted_name(node.func) in ("os.getenv", "getenv")
    elif isinstance(node, cst.Subscript):
        node = node.value
    else:
        return False
    name = dotted_name(node) or ""
    return name.endswith(".config") or name in ("os.environ", "environ")


class _PlainFinder(cst.CSTVisitor):
    def __init__(self, file, facts, req, parents):
        self.file, self.facts, self.req, self.parents = file, facts, req, parents
        self.sites: list[Site] = []
        self.row_factory = b"row_factory" in file.data
        self.hashed_names = _names_assigned_hashes(file.module)
        self._taint: dict[int, object] = {}

    # -- helpers
    def _plain_value(self, node: cst.BaseExpression, at: cst.CSTNode | None = None) -> bool:
        """A value that is the password as typed: request data (directly or through a local variable of
        the function around ``at``), form.password.data, a variable named so."""
        if node is None or _is_hashing_call(node) or string_value(node) is not None:
            return False
        if isinstance(node, cst.Name) and (node.value in ("None", "True", "False") or node.value in self.hashed_names
                                           or node.value.isupper() and len(node.value) > 1):
            return False  # a constant, or a variable that holds a hash
        if self._typed(node, at):
            return True
        if _configured(node):
            return False  # the app's own setting (scrapydweb's self.PASSWORD = app.config.get('PASSWORD'))
        stored = _recoded(node)
        if isinstance(stored, cst.Attribute) and PLAIN.match(stored.attr.value) \
                and not re.search(r"form|args|opts|options|request|input|json|data|payload|body", self.file.code_for(
                    stored.value), re.I):
            return False  # another object's stored password (server.password), copied: not typed here
        code = self.file.code_for(node)
        return bool(re.search(r"pass|pwd", code, re.I)) and not HASHED_WORD.search(code)

    def _typed(self, node: cst.BaseExpression, at: cst.CSTNode | None) -> bool:
        """Whether ``node`` is what the client sent: request data, directly or through a
        local variable of the function around ``at``."""
        if uses(node, self.req, TYPED_SOURCES).request:
            return True
        func = enclosing(at, self.parents, (cst.FunctionDef,)) if at is not None else None
        if func is None:
            return False
        if id(func) not in self._taint:
            self._taint[id(func)] = tainted_names(func, self.req, TYPED_SOURCES)
        return self._taint[id(func)].expr(node)

    def _sent_by_client(self, stored: cst.Attribute | cst.Subscript, at: cst.CSTNode) -> bool:
        """``auth.password`` where the function set ``auth = request.authorization``: the
        credentials the client sent (a user looked up by them, ``find(request.form[...])``, is not)."""
        if not isinstance(stored.value, cst.Name) or not self.req:
            return False
        func = enclosing(at, self.parents, (cst.FunctionDef,))
        request = "|".join(re.escape(name) for name in sorted(self.req))
        return func is not None and re.search(rf"^\s*{re.escape(stored.value.value)}\s*=\s*(?:{request})\.\w+\s*$",
                                              self.file.code_for(func), re.M) is not None

    def _outbound(self, container: cst.BaseExpression) -> bool:
        """Whether what a password is stored in holds credentials for another
        service (or a passphrase to encrypt with): by its name, or for ``self``,
        by its class's."""
        if OUTBOUND.search(self.file.code_for(container)):
            return True
        if isinstance(container, cst.Name) and container.value == "self":
            cls = enclosing(container, self.parents, (cst.ClassDef,))
            return cls is not None and _outbound_name(cls.name.value)
        return False

    def _sent(self, target: cst.BaseExpression) -> bool:
        """``inputs["password"] = ...`` where the function posts ``inputs`` to another
        site (``self.load(url, post=inputs)``, ``requests.post(url, data=inputs)``)."""
        if not (isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name)):
            return False
        func = enclosing(target, self.parents, (cst.FunctionDef,))
        name = re.escape(target.value.value)
        return func is not None and re.search(
            rf"\b(?:post|get|data|json|params|payload|body|form|fields)\s*=\s*(?:[\w.]+\(\s*)?{name}\b",
            self.file.code_for(func)) is not None

    def _statement(self, node):
        return enclosing(node, self.parents, (cst.SimpleStatementLine,))

    # -- Model(password=...) and user.password = ...
    def visit_Call(self, node: cst.Call) -> None:
        name = callee_name(node)
        if name[:1].isupper() and name not in ("Markup", "Response") and not _outbound_name(name):
            for arg in node.args:
                if arg.keyword is not None and PLAIN.match(arg.keyword.value) and self._plain_value(arg.value):
                    value = arg.value
                    self.sites.append(Site("store", self.file, arg, f"`{name}({arg.keyword.value}=...)` stores the "
                                           f"password as typed", attr=arg.keyword.value,
                                           build=lambda method, v=value: ({v: _gen(v, method)}, {})))
        if name in ("filter_by", "filter"):
            self._query(node)
        if name in ("execute", "executemany"):
            self._sql(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not (isinstance(target, (cst.Attribute, cst.Subscript)) and PLAIN.match(_last_name(target) or "")):
            return
        kept = self.file.code_for(target)
        sides = (node.value.body, node.value.orelse) if isinstance(node.value, cst.IfExp) else (node.value,)
        if kept in (self.file.code_for(_recoded(side)) for side in sides):
            return  # data["password"] = data["password"].encode() (or ... if ... else None): nothing new is stored
        if not self._outbound(target.value) and not self._sent(target) and self._plain_value(node.value):
            value = node.value
            self.sites.append(Site("store", self.file, node, f"`{kept}` is set to the password "
                                   f"as typed", attr=_last_name(target),
                                   build=lambda method, v=value: ({v: _gen(v, method)}, {})))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if len(node.comparisons) != 1:
            return
        op = node.comparisons[0].operator
        if not isinstance(op, (cst.Equal, cst.NotEqual)):
            return
        left, right = node.left, node.comparisons[0].comparator
        for stored, given in ((left, right), (right, left)):
            if not (isinstance(stored, (cst.Attribute, cst.Subscript)) and PLAIN.match(_last_name(stored) or "")):
                continue
            if uses(stored, self.req, TYPED_SOURCES).request or self._sent_by_client(stored, node) \
                    or "form" in self.file.code_for(stored) \
                    or CONFIRMATION.search(self.file.code_for(given)):
                continue  # the typed password itself (e.g. a confirmation check), not a stored one
            if CONFIGURED.search(self.file.code_for(stored.value)):
                continue  # the app's configured password (app.config["PASSWORD"]), not a user's
            if self._plain_value(given, node):
                if enclosing(node, self.parents, (cst.Call,)) is not None and callee_name(
                        enclosing(node, self.parents, (cst.Call,))) == "filter":
                    return  # Model.password == x inside a query: see _query
                negate = isinstance(op, cst.NotEqual)
                self.sites.append(Site("compare", self.file, node, f"`{self.file.code_for(node)}` compares the "
                                       f"password as typed",
                                       build=lambda method, n=node, s=stored, g=given, neg=negate:
                                       ({n: _check(s, g, neg).with_changes(lpar=n.lpar, rpar=n.rpar)}, {})))
                return

    # -- User.query.filter_by(name=..., password=...).first()
    def _query(self, call: cst.Call) -> None:
        hit = None
        for arg in call.args:
            if callee_name(call) == "filter_by" and arg.keyword is not None and PLAIN.match(arg.keyword.value) \
                    and self._plain_value(arg.value):
                hit = (arg, arg.keyword.value, arg.value)
            elif callee_name(call) == "filter" and isinstance(arg.value, cst.Comparison) \
                    and len(arg.value.comparisons) == 1 and isinstance(arg.value.comparisons[0].operator, cst.Equal) \
                    and PLAIN.match(_last_name(arg.value.left) or "") and isinstance(arg.value.left, cst.Attribute) \
                    and self._plain_value(arg.value.comparisons[0].comparator):
                hit = (arg, arg.value.left.attr.value, arg.value.comparisons[0].comparator)
        if hit is None:
            return
        arg, column, given = hit
        site = Site("compare", self.file, call, f"the query looks the user up by the password as typed "
                    f"(`{self.file.code_for(arg).strip().rstrip(',')}`)")
        stmt = self._statement(call)
        assign = stmt.body[0] if stmt is not None and len(stmt.body) == 1 else None
        if not (isinstance(assign, cst.Assign) and len(assign.targets) == 1
                and isinstance(assign.targets[0].target, cst.Name) and isinstance(assign.value, cst.Call)
                and callee_name(assign.value) in ("first", "one_or_none", "scalar")
                and isinstance(assign.value.func, cst.Attribute) and assign.value.func.value is call):
            site.problem = "only `user = ....filter_by(..., password=...).first()` is rewritten"
            self.sites.append(site)
            return
        var = assign.targets[0].target.value
        others = [a for a in call.args if a is not arg]
        if others:
            others[-1] = others[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            new_query = call.with_changes(args=others)
        else:
            # .filter(User.password == x) alone: drop the call from the chain
            new_query = call.func.value if isinstance(call.func, cst.Attribute) else None
            if new_query is None:
                site.problem = "the query shape is not recognised"
                self.sites.append(site)
                return
        guard_code = f"if {var} is not None and not check_password_hash({var}.{column}, {self.file.code_for(given)}):\n" \
                     f"    {var} = None\n"
        site.build = lambda method: ({call: new_query}, {stmt: [cst.parse_statement(guard_code)]})
        self.sites.append(site)

    # -- raw SQL
    def _sql(self, call: cst.Call) -> None:
        if not call.args:
            return
        sql_node = call.args[0].value
        params = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None
        if isinstance(sql_node, cst.Call) and callee_name(sql_node) == "text" and len(sql_node.args) == 1:
            sql_node = sql_node.args[0].value  # SQLAlchemy text("...")
        if isinstance(sql_node, cst.Name):
            # query = "..."; db.execute(query, params)
            func = enclosing(call, self.parents, (cst.FunctionDef,))
            found = assignment_of(func, sql_node.value) if func is not None else None
            if found is None:
                return
            sql_node = found[0].value
        orig = sql_node
        if isinstance(sql_node, cst.ConcatenatedString) and string_value(sql_node) is not None:
            # "SELECT ... " "WHERE ..." over several literals: edited as one literal
            first = sql_node
            while isinstance(first, cst.ConcatenatedString):
                first = first.left
            if isinstance(first, cst.SimpleString) and "b" not in first.prefix.lower():
                sql_node = string_literal(string_value(sql_node), first.quote)
        text = _sql_literal(sql_node)
        if text is None:
            fmt = formatted(sql_node)
            if fmt is None:
                return
            literal = "".join(p.text if p.text is not None else "\0" for p in fmt.pieces)
            # the value formatted in right after `password = ` must be the password as typed
            typed = any(piece.text is not None and i + 1 < len(fmt.pieces) and fmt.pieces[i + 1].expr is not None
                        and re.search(rf"\b{SQL_COL}\s*=\s*[\"']?$", piece.text, re.I)
                        and self._plain_value(fmt.pieces[i + 1].expr, at=call) for i, piece in enumerate(fmt.pieces))
            if typed:
                self.sites.append(Site("compare" if re.match(r"\s*(select|with)\b", literal, re.I) else "store",
                                       self.file, call, "SQL compares or stores the password as typed",
                                       problem="the query is built by formatting: parameterize it first (H301), "
                                               "then this fix can move the check to check_password_hash"))
            elif re.match(rf"\s*insert\b[^(]*\([^)]*\b{SQL_COL}\b", literal, re.I):
                self.sites.append(Site("store", self.file, call, "SQL stores the password as typed",
                                       problem="the query is built by formatting: parameterize it first (H301)"))
            return
        insert = re.match(r"\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+[\w.\"`]+\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)\s*;?\s*$",
                          text, re.I | re.S)
        if insert:
            self._sql_insert(call, sql_node, params, text, insert, orig)
            return
        update = re.match(r"\s*UPDATE\s+[\w.\"`]+\s+SET\s+(.*?)\bWHERE\b", text, re.I | re.S)
        if update:
            m = re.search(rf"\b{SQL_COL}\s*=\s*(\?|%s|%\((\w+)\)s|:(\w+))", update.group(1), re.I)
            if m:
                index = len(PLACEHOLDER.findall(text[: update.start(1) + m.start(1)]))
                slot = _param_slot(params, index, m.group(2) or m.group(3))
                self._wrap_param(call, slot, m.group(0).split("=")[0].strip())
            return
        if re.match(r"\s*(SELECT|WITH)\b", text, re.I):
            m = re.search(rf"\b({SQL_COL})\s*=\s*(\?|%s|%\((\w+)\)s|:(\w+))", text, re.I)
            if m:
                self._sql_select(call, sql_node, params, text, m, orig)

    def _wrap_param(self, call, slot, column) -> None:
        site = Site("store", self.file, call, f"SQL stores the `{column}` column as typed", attr=column)
        if slot is None:
            site.problem = "the parameters are not a literal tuple, list or dict"
        elif _is_hashing_call(slot) or isinstance(slot, cst.Name) and slot.value in self.hashed_names:
            return  # hashed here, or a variable that holds a hash
        else:
            site.build = lambda method: ({slot: _gen(slot, method)}, {})
        self.sites.append(site)

    def _sql_insert(self, call, sql_node, params, text, m, orig) -> None:
        columns = [c.strip().strip('"`') for c in m.group(1).split(",")]
        values = _split_values(m.group(2))
        hits = [i for i, c in enumerate(columns) if re.fullmatch(SQL_COL, c, re.I)]
        if not hits or len(values) != len(columns):
            return
        i = hits[0]
        value = values[i]
        ph = PLACEHOLDER.fullmatch(value)
        if ph:
            index = sum(len(PLACEHOLDER.findall(v)) for v in values[:i])
            self._wrap_param(call, _param_slot(params, index, ph.group(1) or ph.group(2)), columns[i])
            return
        literal = re.fullmatch(r"'((?:[^']|'')*)'", value)
        if literal is None:
            return
        site = Site("store", self.file, call, f"SQL stores a plaintext password in the `{columns[i]}` column",
                    attr=columns[i])
        style = _paramstyle(self.facts)
        raw = sql_node.value
        if params is not None or len(call.args) != 1 or call.args[0].value is not orig or style is None \
                or raw.count(value) != 1 or PLACEHOLDER.search(text):
            site.problem = "the query mixes literal values with parameters, or its driver is unknown"
            self.sites.append(site)
            return
        password = literal.group(1).replace("''", "'")
        new_sql = sql_node.with_changes(value=raw.replace(value, style))
        new_call = call.with_changes(args=[
            call.args[0].with_changes(value=new_sql, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(cst.Tuple([cst.Element(string_literal(password, '"' if '"' in sql_node.quote else "'"),
                                            comma=cst.Comma())]))])

        def build(method):
            args = list(new_call.args)
            tup = args[1].value
            args[1] = args[1].with_changes(value=tup.with_changes(elements=[
                tup.elements[0].with_changes(value=_gen(tup.elements[0].value, method))]))
            return {call: new_call.with_changes(args=args)}, {}

        site.build = build
        self.sites.append(site)

    def _sql_select(self, call, sql_node, params, text, m, orig) -> None:
        site = Site("compare", self.file, call, "the query checks the password as typed in SQL")
        self.sites.append(site)
        index = len(PLACEHOLDER.findall(text[: m.start(2)]))
        slot = _param_slot(params, index, m.group(3) or m.group(4))
        stmt = self._statement(call)
        assign = stmt.body[0] if stmt is not None and len(stmt.body) == 1 else None
        fetch = assign.value if isinstance(assign, cst.Assign) else None
        if slot is None or not (isinstance(fetch, cst.Call) and callee_name(fetch) == "fetchone"
                                and isinstance(fetch.func, cst.Attribute) and fetch.func.value is call
                                and len(assign.targets) == 1 and isinstance(assign.targets[0].target, cst.Name)):
            site.problem = "only `row = db.execute(sql, params).fetchone()` with literal parameters is rewritten"
            return
        raw = sql_node.value
        column = m.group(1)
        cond = re.escape(m.group(0))
        new_raw, n = re.subn(rf"\s+AND\s+{cond}", "", raw, count=1, flags=re.I)
        if not n:
            new_raw, n = re.subn(rf"{cond}\s+AND\s+", "", raw, count=1, flags=re.I)
        select = re.match(r"(\s*[\"']*\s*SELECT\s+)(.*?)(\s+FROM\b)", new_raw[len(sql_node.prefix):], re.I | re.S)
        if not n or select is None:
            site.problem = "the password condition is not a plain `AND` term of the WHERE clause"
            return
        columns = [c.strip() for c in select.group(2).split(",")]
        var = assign.targets[0].target.value
        if columns == ["*"]:
            if not self.row_factory:
                site.problem = "`SELECT *` without a row factory: the password column's position is unknown"
                return
            access = f'{var}["{column}"]'
        else:
            if column not in columns:
                start = len(sql_node.prefix) + select.end(2)
                new_raw = new_raw[:start] + f", {column}" + new_raw[start:]
                columns.append(column)
            access = f'{var}["{column}"]' if self.row_factory else f"{var}[{columns.index(column)}]"
        elements = [e for e in params.elements if e.value is not slot] if isinstance(params, (cst.Tuple, cst.List)) \
            else None
        if isinstance(params, cst.Dict):
            new_params = params.with_changes(elements=[e for e in params.elements
                                                       if not (isinstance(e, cst.DictElement) and e.value is slot)])
        elif isinstance(params, cst.Tuple) and len(elements) == 1:
            new_params = params.with_changes(elements=[elements[0].with_changes(comma=cst.Comma())])
        else:
            if elements:
                elements[-1] = elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            new_params = params.with_changes(elements=elements)
        given = self.file.code_for(slot)
        guard = f"if {var} is not None and not check_password_hash({access}, {given}):\n    {var} = None\n"
        site.build = lambda method: ({orig: sql_node.with_changes(value=new_raw), params: new_params},
                                     {stmt: [cst.parse_statement(guard)]})


# --------------------------------------------------------------------------- H502 sites


def _weak_hash(facts, node: cst.CSTNode):
    """(algorithm, data argument) for ``hashlib.md5(data).hexdigest()`` and friends."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in ("hexdigest", "digest") and not node.args):
        return None
    ctor = node.func.value
    if not isinstance(ctor, cst.Call) or not ctor.args:
        return None
    name = call_name(facts, ctor.func)
    if name == "hashlib.new":
        algo = (string_value(ctor.args[0].value) or "").lower()
        data = ctor.args[1].value if len(ctor.args) > 1 else None
    elif name.startswith("hashlib."):
        algo, data = name.split(".", 1)[1], ctor.args[0].value
    else:
        return None
    if data is None or (algo not in WEAK and algo not in FAST):
        return None
    return algo, data


def _password_of(data: cst.BaseExpression) -> cst.BaseExpression | None:
    """``password.encode()`` -> ``password``"""
    if isinstance(data, cst.Call) and isinstance(data.func, cst.Attribute) and data.func.attr.value == "encode" \
            and isinstance(data.func.value, (cst.Name, cst.Attribute, cst.Subscript)):
        return data.func.value
    return None


class _WeakFinder(cst.CSTVisitor):
    def __init__(self, file, facts, parents):
        self.file, self.facts, self.parents = file, facts, parents
        self.sites: list[Site] = []

    def visit_Call(self, node: cst.Call) -> None:
        found = _weak_hash(self.facts, node)
        if found is None:
            return
        algo, data = found
        parent = self.parents.get(id(node))
        context = ""
        if isinstance(parent, cst.Assign):
            context = self.file.code_for(parent.targets[0].target)
        elif isinstance(parent, cst.ComparisonTarget):
            context = self.file.code_for(self.parents.get(id(parent)))
        elif isinstance(parent, cst.Arg):
            context = self.file.code_for(self.parents.get(id(parent)))
        func = enclosing(node, self.parents, (cst.FunctionDef,))
        if func is not None:
            context += " " + func.name.value
        if not (PASSWORDISH.search(self.file.code_for(data)) or PASSWORDISH.search(context)):
            return
        password = _password_of(data)
        if algo in FAST and password is None:
            return  # salted or otherwise combined: a fast hash, but not the case this rule is about
        what = f"`{algo}` is a fast hash" + ("" if algo in FAST else " with known collisions")
        message = f"Password hashed with {algo}: {what} without salt, so stolen hashes are cracked in bulk"
        site = Site("other", self.file, node, message)
        self.sites.append(site)
        if password is None:
            site.problem = "the hashed value is not just `password.encode()` (salted or combined)"
            return
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
            site.kind, site.attr = "store", _last_name(parent.targets[0].target)
            site.build = lambda method: ({node: _gen(password, method)}, {})
            return
        if isinstance(parent, cst.ComparisonTarget):
            comparison = self.parents.get(id(parent))
            if len(comparison.comparisons) == 1 and isinstance(parent.operator, (cst.Equal, cst.NotEqual)):
                site.kind = "compare"
                negate = isinstance(parent.operator, cst.NotEqual)
                site.build = lambda method: ({comparison: _check(comparison.left, password, negate).with_changes(
                    lpar=comparison.lpar, rpar=comparison.rpar)}, {})
                return
        if isinstance(parent, cst.Comparison) and parent.left is node and len(parent.comparisons) == 1:
            target = parent.comparisons[0]
            if isinstance(target.operator, (cst.Equal, cst.NotEqual)):
                site.kind = "compare"
                negate = isinstance(target.operator, cst.NotEqual)
                site.build = lambda method: ({parent: _check(target.comparator, password, negate).with_changes(
                    lpar=parent.lpar, rpar=parent.rpar)}, {})
                return
        if isinstance(parent, cst.Arg):
            call = self.parents.get(id(parent))
            if isinstance(call, cst.Call) and call_name(self.facts, call.func) == "hmac.compare_digest" \
                    and len(call.args) == 2:
                other = [a.value for a in call.args if a is not parent][0]
                site.kind = "compare"
                site.build = lambda method: ({call: _check(other, password)}, {})
                return
        site.problem = "the digest is returned or passed on: change the helper and every caller together"


# --------------------------------------------------------------------------- the rules


def _sites(project, code: str) -> list[Site]:
    cache = project.__dict__.setdefault("_password_sites", {})
    if code in cache:
        return cache[code]
    out: list[Site] = []
    for path in sorted(project.python):
        file = project.python[path]
        if is_test_path(path):
            continue
        if code == "H502" and b"hashlib" not in file.data:
            continue
        if code == "H501" and not _may_name_passwords(file.data):
            continue
        try:
            file.module
        except Exception:
            continue
        out += file.memo(f"{code} sites", lambda file=file: _module_sites(project, file, code))
    if code == "H501" and out:
        hashing = _hashing_attributes(project)
        out = [site for site in out if not _through_hashing_setter(site, hashing)]
    cache[code] = out
    return out


def _module_sites(project, file, code: str) -> list[Site]:
    """The sites in one module: what its own tree and imports say."""
    if code == "H502" and HTTP_CLIENT.search(file.data) and not SERVER_SIDE.search(file.data):
        return []  # another service's login (see HTTP_CLIENT)
    facts = facts_or_imports(project, file)
    parents = LazyParents(file.module)  # most candidates hold no site
    finder = _PlainFinder(file, facts, request_names(facts), parents) if code == "H501" \
        else _WeakFinder(file, facts, parents)
    file.module.visit(finder)
    return finder.sites


def _drop_unused_hashlib(module: cst.Module) -> cst.Module:
    """``import hashlib`` goes when the fix removed its last use."""
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import RemoveImportsVisitor

    if "hashlib." in module.code.replace("import hashlib", ""):
        return module
    context = CodemodContext()
    RemoveImportsVisitor.remove_unused_import(context, "hashlib")
    new = RemoveImportsVisitor(context).transform_module(module)
    if new.body and module.body and new.body[0] is not module.body[0] \
            and all(line.comment is None for line in new.body[0].leading_lines):
        # the import was the first line: no blank line left at the top
        new = new.with_changes(body=[new.body[0].with_changes(leading_lines=[])] + list(new.body[1:]))
    return new


class _PasswordRule(Rule):
    def check_project(self, project):
        sites = _sites(project, self.code)
        if not sites:
            return
        blocker = next((s for s in sites if s.problem), None)
        problem = blocker.problem if blocker else None
        kinds = {s.kind for s in sites}
        method, width_problem = _method_for(project, [s for s in sites if s.kind == "store"])
        if problem is None and width_problem:
            problem = width_problem
        if problem is None and not {"store", "compare"} <= kinds:
            missing = "checked" if "compare" not in kinds else "stored"
            problem = f"hardener could not find where passwords are {missing}: both ends must change together"
        fix = None if problem else self._fix(project, sites, method)
        for site in sites:
            text = site.message
            if site.problem:
                text += f" (no automatic fix: {site.problem})"
            elif problem and blocker is not None:
                line = blocker.file.position(blocker.node).start.line
                text += (f" (no automatic fix yet: store and check sites change together, and "
                         f"{blocker.file.path}:{line} cannot be rewritten)")
            elif problem:
                text += f" (no automatic fix: {problem})"
            yield self.finding(site.file, site.node, text, fix)

    def _fix(self, project, sites: list[Site], method: str | None) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            by_file: dict[str, list[Site]] = {}
            for site in sites:
                by_file.setdefault(site.file.path, []).append(site)
            for path, group in by_file.items():
                replace, after = {}, {}
                for site in group:
                    r, a = site.build(method)
                    replace.update(r)
                    for stmt, new in a.items():
                        after.setdefault(stmt, []).extend(new)
                file = group[0].file
                builder.edit_python(path, lambda m, r=replace, a=after: rewrite(m, replace=r, after=a), file=file)
                names = set()
                code = (builder.current(path) or b"").decode("utf-8", "replace")
                for name in ("generate_password_hash", "check_password_hash"):
                    if name + "(" in code:
                        names.add(name)
                builder.edit_python(path, lambda m, n=names: add_imports(m, *[("werkzeug.security", x) for x in sorted(n)]))
                if self.code == "H502":
                    builder.edit_python(path, _drop_unused_hashlib)
            builder.note("Passwords are stored with generate_password_hash() and checked with check_password_hash()"
                         + (f" (method {method!r} so the hash fits the column)" if method else ""))
            builder.followup(MIGRATION[self.code])
            return builder.build()

        return Fix("Hash passwords with werkzeug.security (store and check sites together)", Safety.REVIEW, compute,
                   reason=REVIEW_REASON)


@register
class PlaintextPassword(_PasswordRule):
    """Passwords stored or compared in plaintext.

    ## What it does
    Finds passwords kept as typed: `User(password=form.password.data)`,
    `user.password = request.form["password"]`, comparisons like
    `user.password == request.form["password"]`, queries that look users up
    by password (`filter_by(password=...)`, `filter(User.password == ...)`,
    `WHERE password = ?`) and SQL `INSERT`/`UPDATE` statements that write a
    password column from a parameter or a literal. Credentials the app sends
    to another service (a mail, database or proxy server, `HostCreds(...)`,
    a form the function posts: `inputs["password"] = pw` then
    `self.load(url, post=inputs)`) and copies of a password already stored
    (`server.password = shared.password`, `data["password"] =
    data["password"].encode()`) and the one password an app's configuration
    holds, set by whoever deploys it (`request.form["password"] ==
    app.config["PASSWORD"]`), are not reported; nor are stores into an
    attribute the model hashes itself (a setter or property that hashes, a
    `PasswordType` column, a SQLAlchemy listener that hashes before every
    insert and update: `listen(User, "before_insert", hash_password)`) or
    whose column type encrypts (`Column(Vault)`). HTTP Basic credentials
    (`request.authorization.password`) count as typed.

    ## Why is this bad?
    Anyone who reads the database (a backup, an SQL injection, a curious
    admin) gets every password, and users reuse passwords on other sites.

    ## Example
    ```python
    db.execute("INSERT INTO users (username, password) VALUES (?, ?)", (username, password))
    ...
    user = db.execute("SELECT id FROM users WHERE username = ? AND password = ?", (username, password)).fetchone()
    ```

    ## Use instead
    ```python
    db.execute("INSERT INTO users (username, password) VALUES (?, ?)", (username, generate_password_hash(password)))
    ...
    user = db.execute("SELECT id, password FROM users WHERE username = ?", (username,)).fetchone()
    if user is not None and not check_password_hash(user["password"], password):
        user = None
    ```
    The fix changes every store and check site of the project at once; if
    one of them cannot be rewritten (e.g. a query still built by string
    formatting: parameterize it first, H301), none is, and the findings say
    why. When the password column is declared shorter than werkzeug's
    default hash, `method="pbkdf2:sha256"` (103 characters) is used.

    ## Fix safety
    Always review: passwords already stored in plaintext stop working until
    they are hashed once (a short migration: hash every stored value with
    `generate_password_hash`), which the fix's notes describe.

    ## References
    - https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
    - https://werkzeug.palletsprojects.com/en/latest/utils/#werkzeug.security.generate_password_hash
    - CWE-256: Plaintext Storage of a Password
    """

    code = "H501"
    name = "plaintext-password"
    category = "password"
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    cwe = 256

    VALID = [
        "from flask import Flask, request\nfrom werkzeug.security import check_password_hash, generate_password_hash\n"
        "app = Flask(__name__)\n@app.post('/r')\ndef r():\n    u = User(name='x', password=generate_password_hash(request.form['password']))\n"
        "    ok = check_password_hash(u.password, request.form['password'])\n    return str(ok)\n",
        # a password policy check is not storage
        "from flask import Flask, request\napp = Flask(__name__)\n@app.post('/r')\ndef r():\n"
        "    if request.form['password'] != request.form['confirm']:\n        return 'mismatch'\n    return 'ok'\n",
    ]
    INVALID = [
        # SQLAlchemy-style: store and check change together
        Example(
            "from flask import Flask, request\napp = Flask(__name__)\n\n@app.post('/register')\ndef register():\n"
            "    user = User(name=request.form['name'], password=request.form['password'])  # new account\n"
            "    save(user)\n    return 'ok'\n\n@app.post('/login')\ndef login():\n"
            "    user = User.query.filter_by(name=request.form['name'], password=request.form['password']).first()\n"
            "    if user is None:\n        return 'no', 401\n    return 'hi'\n",
            "from flask import Flask, request\nfrom werkzeug.security import check_password_hash, generate_password_hash\n\n"
            "app = Flask(__name__)\n\n@app.post('/register')\ndef register():\n"
            "    user = User(name=request.form['name'], password=generate_password_hash(request.form['password']))  # new account\n"
            "    save(user)\n    return 'ok'\n\n@app.post('/login')\ndef login():\n"
            "    user = User.query.filter_by(name=request.form['name']).first()\n"
            "    if user is not None and not check_password_hash(user.password, request.form['password']):\n"
            "        user = None\n"
            "    if user is None:\n        return 'no', 401\n    return 'hi'\n",
            findings=2, unsafe=True,
        ),
        # sqlite3: seed data, a parameterized insert and a parameterized login query
        Example(
            "import sqlite3\nfrom flask import Flask, request\napp = Flask(__name__)\n\ndef seed(db):\n"
            "    db.execute(\"INSERT INTO users (username, password) VALUES ('ann', 'ann-pw')\")\n\n"
            "@app.post('/register')\ndef register():\n    db = sqlite3.connect('x.db')\n"
            "    db.execute('INSERT INTO users (username, password) VALUES (?, ?)', (request.form['u'], request.form['p']))\n"
            "    return 'ok'\n\n@app.post('/login')\ndef login():\n    db = sqlite3.connect('x.db')\n"
            "    row = db.execute('SELECT id FROM users WHERE username = ? AND password = ?',\n"
            "                     (request.form['u'], request.form['p'])).fetchone()\n"
            "    return 'hi' if row else ('no', 401)\n",
            "import sqlite3\nfrom flask import Flask, request\nfrom werkzeug.security import check_password_hash, "
            "generate_password_hash\n\napp = Flask(__name__)\n\ndef seed(db):\n"
            "    db.execute(\"INSERT INTO users (username, password) VALUES ('ann', ?)\", (generate_password_hash(\"ann-pw\"),))\n\n"
            "@app.post('/register')\ndef register():\n    db = sqlite3.connect('x.db')\n"
            "    db.execute('INSERT INTO users (username, password) VALUES (?, ?)', (request.form['u'], "
            "generate_password_hash(request.form['p'])))\n"
            "    return 'ok'\n\n@app.post('/login')\ndef login():\n    db = sqlite3.connect('x.db')\n"
            "    row = db.execute('SELECT id, password FROM users WHERE username = ?',\n"
            "                     (request.form['u'],)).fetchone()\n"
            "    if row is not None and not check_password_hash(row[1], request.form['p']):\n        row = None\n"
            "    return 'hi' if row else ('no', 401)\n",
            findings=3, unsafe=True,
        ),
        # the login query is built by formatting: nothing is changed until it is parameterized
        Example(
            "import sqlite3\nfrom flask import Flask, request\napp = Flask(__name__)\n@app.post('/login')\ndef login():\n"
            "    db = sqlite3.connect('x.db')\n    p = request.form['password']\n"
            "    row = db.execute(f\"SELECT id FROM users WHERE password = '{p}'\").fetchone()\n    return str(row)\n"
            "@app.post('/register')\ndef register():\n    u = User(password=request.form['password'])\n    return 'ok'\n",
            None, findings=2,
        ),
    ]
    triggers = ()


@register
class WeakPasswordHash(_PasswordRule):
    """Passwords hashed with MD5, SHA-1 or an unsalted SHA-2.

    ## What it does
    Finds `hashlib.md5(...)`, `hashlib.sha1(...)` (and `hashlib.new("md5",
    ...)`) digests of passwords, and unsalted `sha256`/`sha512`/... digests
    of `password.encode()`, where they are stored (`self.password_hash =
    ...`) or compared (`self.password_hash == ...`, `hmac.compare_digest`).
    A module that logs in to another service (it imports an HTTP client such
    as `requests` and nothing of Flask, Werkzeug or a database) is left out:
    its digests are what that service's API asks for (a media server's
    `md5(password + salt)` token).

    ## Why is this bad?
    These hashes are fast and unsalted: a GPU tries billions of guesses a
    second, and precomputed tables crack common passwords instantly. Equal
    passwords have equal hashes, so one cracked hash reveals all of them.

    ## Example
    ```python
    def set_password(self, password):
        self.password_hash = hashlib.md5(password.encode()).hexdigest()

    def check_password(self, password):
        return self.password_hash == hashlib.md5(password.encode()).hexdigest()
    ```

    ## Use instead
    ```python
    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)
    ```
    Store and check sites change together. When the hash column is declared
    shorter than werkzeug's default scrypt hash (162 characters),
    `method="pbkdf2:sha256"` (103 characters) is used so the schema keeps
    working; widen the column to use the default.

    ## Fix safety
    Always review: existing digests cannot be converted. Users need a
    password reset, or keep the old check for a transition period and
    re-hash on the next successful login (the fix's notes describe it).

    ## References
    - https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
    - https://werkzeug.palletsprojects.com/en/latest/utils/#werkzeug.security.generate_password_hash
    - CWE-916: Use of Password Hash With Insufficient Computational Effort
    """

    code = "H502"
    name = "weak-password-hash"
    category = "password"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    cwe = 916

    VALID = [
        "import hashlib\nfrom flask import Flask\napp = Flask(__name__)\n"
        "def etag(body):\n    return hashlib.md5(body).hexdigest()\n",
        "import hashlib\nfrom flask import Flask\napp = Flask(__name__)\n"
        "def token_digest(token):\n    return hashlib.sha256(token.encode()).hexdigest()\n",
    ]
    INVALID = [
        Example(
            {
                "app.py": "from flask import Flask\napp = Flask(__name__)\n",
                "models.py": "import hashlib\n\nfrom flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\n"
                             "class User(db.Model):\n    password_hash = db.Column(db.String(128), nullable=False)\n\n"
                             "    def set_password(self, password):\n"
                             "        self.password_hash = hashlib.md5(password.encode()).hexdigest()  # legacy\n\n"
                             "    def check_password(self, password):\n"
                             "        return self.password_hash == hashlib.md5(password.encode()).hexdigest()\n",
            },
            {
                "models.py": "from flask_sqlalchemy import SQLAlchemy\n"
                             "from werkzeug.security import check_password_hash, generate_password_hash\n\n"
                             "db = SQLAlchemy()\n\n\n"
                             "class User(db.Model):\n    password_hash = db.Column(db.String(128), nullable=False)\n\n"
                             "    def set_password(self, password):\n"
                             "        self.password_hash = generate_password_hash(password, method=\"pbkdf2:sha256\")  # legacy\n\n"
                             "    def check_password(self, password):\n"
                             "        return check_password_hash(self.password_hash, password)\n",
            },
            findings=2, unsafe=True,
        ),
        # a helper that returns the digest: reported, not rewritten
        Example(
            "import hashlib\nfrom flask import Flask\napp = Flask(__name__)\n"
            "def hash_password(pw, salt):\n    return hashlib.sha1((salt + pw).encode()).hexdigest()\n",
            None,
        ),
    ]
    triggers = ()
