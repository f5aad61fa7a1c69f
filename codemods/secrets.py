"""H102 hardcoded-secret-key and H103 hardcoded-credential: secrets in code.

Both fixes move the value to ``.env`` (created 0600, in .gitignore, never
overwriting a key that is already there), read it back with
``os.environ["NAME"]`` after ``load_dotenv()``, add python-dotenv to the
dependencies and tell the user to rotate the secret.

Other rules that need the app to have a secret key (CSRF protection) call
``ensure_secret_key(builder, project, app)``: it adds
``app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]`` after the app is
created and a fresh random key to .env, unless the app already has one.
"""

from __future__ import annotations

import re
import secrets as _secrets

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports, ensure_load_dotenv, insert_after_app, replace_nodes
from hardener.models import Confidence, Fix, Safety, Severity
from hardener.project import dotted_name, is_test_path, string_value
from hardener.rules import Example, Rule, register

from ._webapp import app_scopes

SECRET_KEYS = ("SECRET_KEY", "JWT_SECRET_KEY", "WTF_CSRF_SECRET_KEY", "SECURITY_PASSWORD_SALT")
CREDENTIAL_NAME = re.compile(
    r"(PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_KEY|AUTH_TOKEN|ACCESS_TOKEN|API_TOKEN|_TOKEN$|SECRET|PRIVATE_KEY)",
    re.I,
)
# Settings about a credential rather than holding one: SECURITY_PASSWORD_HASH (an
# algorithm), ..._SECRET_HEADER (a header's name), ..._API_KEY_FILE (a path).
ABOUT_CREDENTIAL = re.compile(
    r"_(?:HEADER|HEADER_NAME|FILE|FILENAME|PATH|DIR|FOLDER|FIELD|PARAM|ENDPOINT|ALGORITHMS?|SCHEMES?|HASH|"
    r"LENGTH|TEMPLATE|ENV|ENV_VAR|VAR|NAME|COOKIE_NAME|TIMEOUT|LIFETIME|EXPIRES|ROUNDS|ITERATIONS)$", re.I)
WORD = re.compile(r"^[A-Za-z~.][\w.\-~/]*$")  # an identifier, a header or a file name: no secret has this shape alone
# A password hash (werkzeug's "method$salt$hash", bcrypt, argon2, crypt): no one logs in with it.
PASSWORD_HASH = re.compile(r"^(?:(?:pbkdf2|scrypt)[\w:]*\$[^$\s]+\$[0-9a-f]{32,}|\$(?:2[aby]?|argon2i?d?|5|6)\$\S{20,})$")
URI_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.\-]*://[^:/@\s]*:([^@/\s]+)@", re.I)
WEAK_VALUES = {
    "dev", "devkey", "development", "secret", "secretkey", "secret-key", "secret_key", "changeme", "change-me",
    "change_me", "password", "test", "testing", "default", "key", "mysecret", "supersecret", "super-secret",
    "your-secret-key", "your_secret_key", "yoursecretkey", "please-change-me", "notsecret", "insecure",
}
PLACEHOLDER = re.compile(r"^(|x+|\*+|\.\.\.|<.*>|\$\{.*\}|\{\{.*\}\}|%\(.*\)s|changeme|change-me|todo|none|null)$", re.I)
ROTATE = ("Rotate {what}: the old value is still in your git history, so treat it as leaked "
          "and generate a new one (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`).")
ROTATE_CREDENTIAL = ("Rotate {what}: the old value is still in your git history, so treat it as leaked: "
                     "change the password or revoke the key where it was issued, then update .env.")


def is_weak(value: str) -> str | None:
    """Why a secret key is weak, or None."""
    lowered = value.lower()
    if lowered in WEAK_VALUES or any(w in lowered for w in ("dev", "secret", "change", "password", "test")):
        return "a guessable word"
    if len(value) < 24:
        return f"only {len(value)} characters"
    if len(set(value)) < 10:
        return "too few distinct characters"
    return None


def _environ_default(node: cst.BaseExpression) -> tuple[str, str] | None:
    """``os.environ.get("NAME", "literal")`` / ``os.getenv(...)`` -> (NAME, literal)."""
    if not isinstance(node, cst.Call) or len(node.args) < 2:
        return None
    func = dotted_name(node.func) or ""
    if func not in ("os.environ.get", "environ.get", "os.getenv", "getenv"):
        return None
    name, default = string_value(node.args[0].value), string_value(node.args[1].value)
    if name is None or not default:
        return None
    return name, default


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def _choose_env_name(builder: ChangeBuilder, key: str, value: str, owner: str | None) -> str:
    """The key itself, unless .env already holds it with another value."""
    from dotenv import dotenv_values
    import io

    text = (builder.current(".env") or b"").decode("utf-8", "replace")
    existing = dotenv_values(stream=io.StringIO(text)) if text else {}
    if key not in existing or existing[key] == value:
        return key
    qualified = f"{_snake(owner or 'APP')}_{key}"
    if qualified in existing and existing[qualified] != value:
        raise_name = qualified + "_2"
        return raise_name
    return qualified


def move_to_env_fix(project, file, node: cst.BaseExpression, key: str, value: str, owner: str | None,
                    what: str, *, env_name: str | None = None) -> Fix:
    """Replace ``node`` (a literal, or a getenv call with a literal default) with
    ``os.environ["NAME"]`` and put the value into .env."""

    def compute():
        builder = ChangeBuilder(project)
        name = env_name or _choose_env_name(builder, key, value, owner)
        replacement = cst.parse_expression(f'os.environ["{name}"]')
        builder.edit_python(file.path, lambda m: replace_nodes(m, {node: replacement}), file=file)
        builder.mark_secret(file.path, value)
        builder.edit_python(file.path, lambda m: ensure_load_dotenv(add_imports(m, ("os", None))))
        builder.env_var(name, value)
        builder.dependency("python-dotenv")
        builder.note(f"{name} is now read from the environment; hardener wrote the current value to .env "
                     f"(not committed). Set {name} in every environment the app runs in.")
        builder.followup((ROTATE if key in SECRET_KEYS else ROTATE_CREDENTIAL).format(what=what))
        return builder.build()

    return Fix(f"Move {key} to .env and read it from the environment", Safety.SAFE, compute)


def _skip_setting(setting) -> bool:
    if is_test_path(setting.file.path):
        return True
    return setting.kind == "class" and "test" in (setting.owner or "").lower()


def _names_a_setting(project, setting, value: str) -> bool:
    """``DB_PASSWORD = "PI_DB_PASSWORD"`` in a class no app loads: a table of
    setting names (privacyidea's ConfigKey), not configuration."""
    if setting.kind != "class" or not re.fullmatch(r"[A-Z][A-Z0-9_]*", value) or not value.endswith(setting.key):
        return False
    return not any(c.name == setting.owner and c.file is setting.file and c.loaded for c in project.config_classes)


def _where(setting) -> str:
    if setting.kind == "class":
        return f"config class {setting.owner}"
    if setting.kind == "module":
        return "a config module"
    return f"the configuration of `{setting.owner}`"


@register
class HardcodedSecretKey(Rule):
    """Secret key hard-coded in the source.

    ## What it does
    Finds `SECRET_KEY`, `JWT_SECRET_KEY`, `WTF_CSRF_SECRET_KEY` and
    `SECURITY_PASSWORD_SALT` set to a string literal anywhere the app's
    configuration lives: `app.config[...] =`, `app.config.update(...)`,
    `app.secret_key =`, config classes (with inheritance) and config modules,
    and `os.environ.get("SECRET_KEY", "literal")` fallbacks. Weak values
    (`dev`, `changeme`, short keys) are called out.

    ## Why is this bad?
    Flask signs the session cookie with the secret key. Whoever knows it can
    forge a session and log in as anyone; with Flask-WTF it also forges CSRF
    tokens, with Flask-JWT-Extended any token. A key in the source is known to
    everyone who can read the repository, its history, or a leaked copy.

    ## Example
    ```python
    app.config["SECRET_KEY"] = "my-dev-key"
    ```

    ## Use instead
    ```python
    from dotenv import load_dotenv
    load_dotenv()
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    ```
    with `SECRET_KEY=...` in a `.env` file that is not committed (or in the
    deployment's environment). A missing key stops the app at start-up with a
    `KeyError` naming it, instead of running with a known key.

    ## Fix safety
    Safe: the fix writes the current value to `.env` (mode 0600, added to
    `.gitignore` first, `.env.example` gets a placeholder), so the app keeps
    the same key and existing sessions stay valid. Deployments must now
    provide the variable. The key should still be rotated: it stays in git
    history.

    ## References
    - https://flask.palletsprojects.com/en/latest/config/#SECRET_KEY
    - https://pypi.org/project/python-dotenv/
    - CWE-798: Use of Hard-coded Credentials
    """

    code = "H102"
    name = "hardcoded-secret-key"
    category = "secret"
    severity = Severity.CRITICAL
    confidence = Confidence.HIGH
    cwe = 798

    VALID = [
        'import os\nfrom flask import Flask\napp = Flask(__name__)\napp.config["SECRET_KEY"] = os.environ["SECRET_KEY"]\n',
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('settings.Prod')\n",
                 "settings.py": "import os\nclass Prod:\n    SECRET_KEY = os.environ['SECRET_KEY']\n"
                                "class TestingConfig(Prod):\n    SECRET_KEY = 'test'\n"}, findings=0),
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\n",
                 "tests/test_app.py": "from app import app\napp.config['SECRET_KEY'] = 'testing-key'\n"}, findings=0),
    ]
    INVALID = [
        Example(
            "from flask import Flask\n\napp = Flask(__name__)\napp.config['SECRET_KEY'] = 'dev-secret-key-123'  # TODO\n",
            {
                "app.py": "from flask import Flask\nimport os\nfrom dotenv import load_dotenv\n\nload_dotenv()\n\n"
                          "app = Flask(__name__)\napp.config['SECRET_KEY'] = os.environ[\"SECRET_KEY\"]  # TODO\n",
                ".env": "SECRET_KEY=dev-secret-key-123\n",
                ".env.example": "SECRET_KEY=change-me\n",
                ".gitignore": ".env\n",
            },
        ),
        Example(
            {"app.py": "from flask import Flask\napp = Flask(__name__)\napp.secret_key = 'a9f8s7d6f5g4h3j2k1l0qwerty'\n",
             ".gitignore": "__pycache__/\n", ".env": "OTHER=1\n"},
            {"app.py": "from flask import Flask\nimport os\nfrom dotenv import load_dotenv\n\nload_dotenv()\n\n"
                       "app = Flask(__name__)\napp.secret_key = os.environ[\"SECRET_KEY\"]\n",
             ".gitignore": "__pycache__/\n.env\n", ".env": "OTHER=1\nSECRET_KEY=a9f8s7d6f5g4h3j2k1l0qwerty\n"},
        ),
        Example(
            "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
            "app.config['SECRET_KEY'] = os.environ.get('SECRET_KEY', 'changeme')\n",
            "import os\nfrom flask import Flask\nfrom dotenv import load_dotenv\n\nload_dotenv()\n\napp = Flask(__name__)\n"
            "app.config['SECRET_KEY'] = os.environ[\"SECRET_KEY\"]\n",
        ),
        Example(
            {"shop/__init__.py": "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n"
                                 "    app.config.from_object('shop.config.Config')\n    return app\n",
             "shop/config.py": "class Config:\n    SECRET_KEY = 'super-secret-shop-key'\n    JWT_SECRET_KEY = 'jwt-key'\n"},
            {"shop/config.py": "import os\nfrom dotenv import load_dotenv\n\nload_dotenv()\n\nclass Config:\n"
                               "    SECRET_KEY = os.environ[\"SECRET_KEY\"]\n    JWT_SECRET_KEY = os.environ[\"JWT_SECRET_KEY\"]\n",
             ".env": "SECRET_KEY=super-secret-shop-key\nJWT_SECRET_KEY=jwt-key\n"},
            findings=2,
        ),
    ]

    def check_project(self, project):
        for setting in project.config_settings(loaded_only=False):
            if setting.key not in SECRET_KEYS or _skip_setting(setting):
                continue
            value = string_value(setting.value)
            node = setting.value
            env_name = None
            if value is not None and _names_a_setting(project, setting, value):
                continue
            if value is None:
                fallback = _environ_default(setting.value)
                if fallback is None:
                    continue
                env_name, value = fallback
                where = f"the fallback of `os.environ.get({env_name!r}, ...)`"
            else:
                where = _where(setting)
            weak = is_weak(value)
            message = f"Hard-coded {setting.key} in {where}" + (f" (and weak: {weak})" if weak else "")
            message += "; anyone with the source can forge sessions and tokens"
            yield self.finding(
                setting.file, setting.node, message,
                move_to_env_fix(project, setting.file, node, setting.key, value, setting.owner,
                                f"{setting.key}", env_name=env_name),
                secret_values=(value,),
            )


# detect-secrets plugins with specific formats (no entropy or keyword guessing,
# which is where false positives come from); never their network verification.
_PLUGIN_TRIGGERS = (b"AKIA", b"ASIA", b"sk_live_", b"rk_live_", b"ghp_", b"gho_", b"ghs_", b"github_pat_",
                    b"glpat-", b"xox", b"PRIVATE KEY", b"SG.", b"sk-", b"npm_", b"pypi-", b"AIza")


def _plugins():
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.npm import NpmDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.stripe import StripeDetector

    return [cls() for cls in (AWSKeyDetector, GitHubTokenDetector, GitLabTokenDetector, NpmDetector, OpenAIDetector,
                              PrivateKeyDetector, PypiTokenDetector, SendGridDetector, SlackDetector, StripeDetector)]


class _StringAssignments(cst.CSTVisitor):
    """String literals, with the simple assignment target they are the value of."""

    def __init__(self):
        self.found: list[tuple[cst.SimpleString, str | None, cst.CSTNode | None]] = []
        self._target: list[tuple[str | None, cst.CSTNode | None]] = [(None, None)]
        self._depth = 0

    def visit_FunctionDef(self, node) -> None:
        self._depth += 1

    def leave_FunctionDef(self, node) -> None:
        self._depth -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        name = target.value if isinstance(target, cst.Name) and self._depth == 0 else None
        self._target.append((name, node.value if name else None))

    def leave_Assign(self, node) -> None:
        self._target.pop()

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        name, value = self._target[-1]
        self.found.append((node, name, node if value is node else None))


@register
class HardcodedCredential(Rule):
    """Credential hard-coded in the source.

    ## What it does
    Finds credentials written into the code: database URIs with a password
    (`postgresql://user:password@host/db`), configuration values named like
    passwords, API keys and tokens (`MAIL_PASSWORD`, `STRIPE_API_KEY`), and
    strings that have the exact format of a known provider's key (AWS, GitHub,
    GitLab, Slack, Stripe, SendGrid, OpenAI, npm, PyPI, private keys), found
    with detect-secrets' format plugins, offline. Test files, obvious
    placeholders and settings about a credential rather than holding one
    (`SECURITY_PASSWORD_HASH = "bcrypt"`, `API_KEY_FILE = "~/.key"`,
    `SECRET_HEADER = "X-Secret"`, a password hash) are left alone.

    ## Why is this bad?
    Everyone with read access to the repository, its history, a fork, a CI log
    or a leaked backup can use the credential: log into the database, spend
    on the API account, push code.

    ## Example
    ```python
    class ProductionConfig(Config):
        SQLALCHEMY_DATABASE_URI = "postgresql://shop:Sup3rS3cret@db:5432/shop"
    ```

    ## Use instead
    ```python
    class ProductionConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ["SQLALCHEMY_DATABASE_URI"]
    ```
    with the value in `.env` (not committed) or the deployment's environment.

    ## Fix safety
    Safe where the value is assigned to a name or config key: it moves to
    `.env` with the same value, so the app keeps working. Elsewhere (a literal
    inside a call) there is no automatic fix. Rotate the credential anyway:
    it stays in git history.

    ## References
    - https://github.com/Yelp/detect-secrets
    - https://12factor.net/config
    - CWE-798: Use of Hard-coded Credentials
    """

    code = "H103"
    name = "hardcoded-credential"
    category = "secret"
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    cwe = 798
    triggers = _PLUGIN_TRIGGERS

    VALID = [
        "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
        "app.config['SQLALCHEMY_DATABASE_URI'] = os.environ.get('DATABASE_URL', 'sqlite:///app.db')\n",
        "from flask import Flask\napp = Flask(__name__)\napp.config['MAIL_PASSWORD'] = ''\n"
        "app.config['TOKEN_URL'] = 'https://example.com/token'\n",
        "from flask import Flask\napp = Flask(__name__)\napp.config['DATABASE_URI'] = 'postgresql://localhost/app'\n",
        # settings about a credential: an algorithm, a header's name, a file's path
        "from flask import Flask\napp = Flask(__name__)\napp.config['SECURITY_PASSWORD_HASH'] = 'pbkdf2_sha512'\n"
        "app.config['SHARED_SECRET_HEADER'] = 'X-App-Shared-Secret'\n"
        "app.config['OPENAI_API_KEY_FILE'] = '~/.openai-api-key'\n"
        "app.config['FAKE_PASSWORD_CHECK'] = 'scrypt:32768:8:1$wiDa0ruWlIPhp9LM$6e409d093e62ad54df2af895d0e125b05ff6cf64'\n",
    ]
    INVALID = [
        Example(
            {"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('config.ProductionConfig')\n",
             "config.py": "class Config:\n    DEBUG = False\n\nclass ProductionConfig(Config):\n"
                          "    SQLALCHEMY_DATABASE_URI = 'postgresql://shop:Sup3rS3cretDBpass@db:5432/shop'\n"},
            {"config.py": "import os\nfrom dotenv import load_dotenv\n\nload_dotenv()\n\nclass Config:\n    DEBUG = False\n\n"
                          "class ProductionConfig(Config):\n    SQLALCHEMY_DATABASE_URI = os.environ[\"SQLALCHEMY_DATABASE_URI\"]\n",
             ".env": "SQLALCHEMY_DATABASE_URI=postgresql://shop:Sup3rS3cretDBpass@db:5432/shop\n"},
        ),
        Example(
            "from flask import Flask\napp = Flask(__name__)\napp.config.update(MAIL_PASSWORD='hunter2-mail-pass')\n",
            "from flask import Flask\nimport os\nfrom dotenv import load_dotenv\n\nload_dotenv()\n\napp = Flask(__name__)\n"
            "app.config.update(MAIL_PASSWORD=os.environ[\"MAIL_PASSWORD\"])\n",
        ),
        Example(
            {"app.py": "from flask import Flask\napp = Flask(__name__)\n",
             "payments.py": "STRIPE_KEY = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'\n"},
            {"payments.py": "import os\nfrom dotenv import load_dotenv\n\nload_dotenv()\n"
                            "\nSTRIPE_KEY = os.environ[\"STRIPE_KEY\"]\n"},
        ),
        Example(
            {"app.py": "from flask import Flask\nimport boto3\napp = Flask(__name__)\n"
                       "s3 = boto3.client('s3', aws_access_key_id='AKIAIOSFODNN7EXAMPLE')\n"},
            None,
        ),
    ]

    def __init__(self):
        self._reported: set[tuple[str, int]] = set()

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        visitor = _StringAssignments()
        file.module.visit(visitor)
        plugins = None
        for node, name, value_node in visitor.found:
            value = string_value(node)
            if not value or len(value) < 12:
                continue
            if plugins is None:
                plugins = _plugins()
            kinds = [p.secret_type for p in plugins if any(True for _ in p.analyze_string(value))]
            if not kinds:
                continue
            self._reported.add((file.path, id(node)))
            fix = None
            if value_node is not None and name:
                fix = move_to_env_fix(project, file, node, name, value, None, f"the {kinds[0]} in {name}")
            yield self.finding(
                file, node, f"Hard-coded credential ({kinds[0]})"
                + ("" if fix else "; move it to an environment variable by hand"),
                fix, secret_values=(value,),
            )

    def check_project(self, project):
        for setting in project.config_settings(loaded_only=False):
            if setting.key in SECRET_KEYS or _skip_setting(setting):
                continue
            value = string_value(setting.value)
            if value is None or (setting.file.path, id(setting.value)) in self._reported:
                continue
            match = URI_WITH_PASSWORD.match(value)
            if match:
                if PLACEHOLDER.match(match.group(1)):
                    continue
                secret = value
                message = f"Database URI with a hard-coded password in {_where(setting)} ({setting.key})"
            elif CREDENTIAL_NAME.search(setting.key) and not PLACEHOLDER.match(value) and len(value) >= 8 \
                    and not value.startswith(("http://", "https://", "/")) \
                    and not (ABOUT_CREDENTIAL.search(setting.key) and WORD.match(value)) \
                    and not PASSWORD_HASH.match(value) and not _names_a_setting(project, setting, value):
                secret = value
                message = f"Hard-coded {setting.key} in {_where(setting)}"
            else:
                continue
            yield self.finding(
                setting.file, setting.node, message,
                move_to_env_fix(project, setting.file, setting.value, setting.key, secret, setting.owner, setting.key),
                secret_values=(secret,),
            )


def app_has_secret_key(project, app) -> bool:
    """Whether ``app`` gets a SECRET_KEY from somewhere we can see (or cannot rule out)."""
    if project.facts_for(app.file.path) is None:
        return True
    for scope in app_scopes(project, app):  # where the app is built, and the functions it is handed to
        for setting in scope.facts.settings:
            if setting.key == "SECRET_KEY" and setting.owner == scope.name:
                return True
        for load in scope.facts.loads:
            if load.owner != scope.name:
                continue
            if load.method in ("from_prefixed_env", "from_envvar", "from_pyfile", "from_file", "from_mapping"):
                return True  # the key may well come from there
            if load.method == "from_object":
                return any(c.lookup("SECRET_KEY") is not None for c in project.loaded_config_classes()) or bool(
                    project.loaded_config_modules()) or project.unresolved_loads
    return False


def ensure_secret_key(builder: ChangeBuilder, project, app) -> bool:
    """Give ``app`` a SECRET_KEY from .env if it has none; True if one was added.

    Call it before other edits to ``app.file`` in the same fix or after them:
    it re-parses the file and finds the app by name (and factory)."""
    if app_has_secret_key(project, app):
        return False
    builder.env_var("SECRET_KEY", _secrets.token_hex(32))
    factory = app.factory.name.value if app.factory is not None else None
    statement = cst.parse_statement(f'{app.name}.config["SECRET_KEY"] = os.environ["SECRET_KEY"]\n')
    builder.edit_python(
        app.file.path,
        lambda m: ensure_load_dotenv(add_imports(insert_after_app(m, app.name, factory, [statement]), ("os", None))),
    )
    builder.dependency("python-dotenv")
    builder.note("The app had no SECRET_KEY: a random one was written to .env and is read from the environment")
    return True
