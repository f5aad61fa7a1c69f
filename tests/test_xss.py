"""H311-H315 (template injection and XSS) beyond their examples."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hardener.models import Safety

from rewrite_helpers import APP, findings, fix, fix_twice, project

RTS = "from flask import Flask, request, render_template_string\napp = Flask(__name__)\n"


@pytest.mark.parametrize("expr,expected", [
    ('"<p>{}</p>".format(name)', '"<p>{{ name }}</p>", name=name'),
    ('"<p>" + name + "</p>"', '"<p>{{ name }}</p>", name=name'),
    ('"<p>%s</p>" % name', '"<p>{{ name }}</p>", name=name'),
    ("f'<p>{name.upper()} \\'{n}\\'</p>'", "'<p>{{ value }} \\'{{ n }}\\'</p>', value=name.upper(), n=n"),
])
def test_formatting_shapes(tmp_path, expr, expected):
    root = project(tmp_path, RTS + f"@app.get('/p')\ndef p():\n    name = request.args['n']\n    n = 1\n"
                                 f"    return render_template_string({expr})\n")
    texts, left = fix(root, "H311")
    assert f"render_template_string({expected})" in texts["app.py"]
    assert left == []


def test_unsupported_format_spec_is_reported_without_fix(tmp_path):
    root = project(tmp_path, RTS + "@app.get('/p')\ndef p():\n    x = request.args['x']\n"
                                 "    return render_template_string(f'<p>{x!r}</p>')\n")
    (found,) = findings(root, "H311")
    assert found.fix is None


def test_variable_read_twice_is_not_rewritten(tmp_path):
    root = project(tmp_path, RTS + "@app.get('/p')\ndef p():\n    x = request.args['x']\n    page = f'<p>{x}</p>'\n"
                                 "    log(page)\n    return render_template_string(page)\n")
    (found,) = findings(root, "H311")
    assert found.fix is None


def test_safety_depends_on_where_values_come_from(tmp_path):
    root = project(tmp_path, RTS + "@app.get('/a')\ndef a():\n    return render_template_string(f'<p>{request.args[\"q\"]}</p>')\n"
                                 "@app.get('/b')\ndef b():\n    html = load_snippet()\n"
                                 "    return render_template_string(f'<div>{html}</div>')\n")
    a, b = sorted(findings(root, "H311"), key=lambda f: f.line)
    assert a.fix.safety is Safety.SAFE
    assert b.fix.safety is Safety.REVIEW and b.fix.reason


def test_fixed_hello_page_behaves(tmp_path):
    root = project(tmp_path, RTS + "@app.get('/hello')\ndef hello():\n    name = request.args.get('name', 'stranger')\n"
                                 "    return render_template_string(f\"<h1>Hello {name}!</h1>\")\n")
    fix_twice(root, "H311")
    probe = ("import sys\nsys.path.insert(0, '.')\nfrom app import app\nc = app.test_client()\n"
             "for n in ('Ada', '{{7*7}}', '<i>x</i>'):\n    print(c.get('/hello', query_string={'name': n}).get_data(as_text=True))\n"
             "print(c.get('/hello').get_data(as_text=True))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["<h1>Hello Ada!</h1>", "<h1>Hello {{7*7}}!</h1>",
                                       "<h1>Hello &lt;i&gt;x&lt;/i&gt;!</h1>", "<h1>Hello stranger!</h1>"], out.stderr


def test_markup_fix_escapes_values_and_keeps_markup(tmp_path):
    root = project(tmp_path, APP + "from markupsafe import Markup\n"
                                   "def badge(name, n):\n    return Markup(f'<b>{name}</b> {{x}} {n:03d}')\n")
    texts = fix_twice(root, "H312")
    assert "Markup('<b>{}</b> {{x}} {:03d}').format(name, n)" in texts["app.py"]
    ns = {}
    exec(texts["app.py"].split("def badge")[0].replace(APP, "") + "def badge" + texts["app.py"].split("def badge")[1], ns)
    assert str(ns["badge"]("<script>", 7)) == "<b>&lt;script&gt;</b> {x} 007"


def test_markup_of_values_escaped_on_the_way_there(tmp_path):
    root = project(tmp_path, APP + """
        from markupsafe import Markup, escape
        def a(error, url):
            if error:
                error = render_fully_escaped(error)
                if url:
                    return Markup(f"{error} <a href='{url_for('x')}'>retry</a>")
                return Markup(f"{error}")
            return ''
        def b(error):
            if error:
                error = escape(error)
            return Markup(f"<p>{error}</p>")
        def c(error):
            text = escape(error)
            text = error.strip()
            return Markup(f"<p>{text}</p>")
        def d(error):
            return Markup(f"<p>{error}</p>")
    """)
    assert [f.line for f in findings(root, "H312")] == [14, 18, 20]


def test_autoescape_on_the_import_alias(tmp_path):
    root = project(tmp_path, APP + "from jinja2 import Environment as Env\nenv = Env(\n    loader=None,\n)\n")
    (found,) = findings(root, "H314")
    assert found.fix.safety is Safety.REVIEW
    texts = fix_twice(root, "H314")
    assert "autoescape=select_autoescape()" in texts["app.py"]


@pytest.mark.parametrize("template,count", [
    ("{{ comment.text | safe }}", 1),
    ("{{ request.args.get('q')|safe }}", 1),
    ("{{ data|tojson|safe }}", 0),
    ("{{ 'x'|safe }}", 0),
    ("{{ _('Example: <code>Out of stock</code>')|safe }}", 0),
    ("{{ _('Book %(n)s', n=entry.series)|safe }}", 1),
    ("{{ _(entry.title)|safe }}", 1),
    ("{{ entry.comments|clean_html|safe }}", 0),
    ("{{ _('Don\\'t <a href=\"%(url)s\">panic</a>', url=url_for('help') + '#ai')|safe }}", 0),
    ("{{ field(class_='wide', **kwargs)|safe }}", 0),
    ("{{ user.field()|safe }}", 1),
    ("{{ field.description|safe }}", 0),
    ("{{ widgets.get('list')()|safe }}", 0),
    ("{{ widgets.get('related_views')[loop.index - 1](pk=pk)|safe }}", 0),
    ("{{ list_widget()|safe }}", 0),
    ("{{ _('<code>serial.log</code> is enabled')|esq|safe }}", 0),
    ("{{ user.name|esq|safe }}", 1),
    ("{{ _('<b>%(n)s</b>')|format(n=user.name)|safe }}", 1),
    ("{{ widgets.get('list')|safe }}", 1),
    ("{{ get_comment(pk)|safe }}", 1),
    ("{{ user.description|safe }}", 1),
    ("{{ note.body|replace('\\n', '<br>'|safe) }}", 0),
    ("{{ note.body|replace('\\n', '<br>')|safe }}", 1),
    ("{{ entry.comments|safe|clean_html }}", 1),
    ("{% autoescape false %}{{ user.bio }}{% endautoescape %}", 1),
    # names the template sets to constants only (changedetection.io's translated hints)
    ("{%- set icon -%}&nbsp;<i data-feather=\"more\"></i>{% endset -%}{{ _('Menu%(icon)s', icon=icon)|safe }}", 0),
    ("{% set label = _('<b>Install</b>') %}{{ label|safe }}", 0),
    ("{% set icon %}<i>{{ user.name }}</i>{% endset %}{{ _('Menu%(icon)s', icon=icon)|safe }}", 1),
    ("{% set icon = '<i>' %}{% for icon in icons %}{{ icon|safe }}{% endfor %}", 1),
    ("{% set icon = '<i>' %}{% set icon = user.icon %}{{ icon|safe }}", 1),
    ("{% set icon %}{% if x %}{{ user.name }}{% endif %}{% endset %}{{ icon|safe }}", 1),
    ("{% autoescape true %}{{ user.bio }}{% endautoescape %}", 0),
    # scrapydweb escapes by hand before marking safe; without "<" the markup stays
    ("{{ text|replace('&', '&amp;')|replace('<', '&lt;')|replace('>', '&gt;')|replace(\"'\", \"\\\\'\")|safe }}", 0),
    ("{{ text|replace('&', '&amp;')|replace('>', '&gt;')|safe }}", 1),
])
def test_safe_filter_shapes(tmp_path, template, count):
    root = project(tmp_path, {"app.py": APP, "templates/t.html": "<div>\n" + template + "\n</div>\n"})
    found = findings(root, "H313")
    assert len(found) == count
    for f in found:
        assert (f.path, f.line) == ("templates/t.html", 2) and f.fix is None


def test_safe_on_a_global_that_includes_a_file_of_the_app_is_not_reported(tmp_path):
    # ihatemoney's inline SVG icons; a global that reads the database is still reported
    root = project(tmp_path, {
        "app.py": "import os\nfrom flask import Flask, current_app\nfrom utils import static_include\n"
                  "app = Flask(__name__)\napp.jinja_env.globals['static_include'] = static_include\n\n"
                  "@app.template_global()\ndef setting(name):\n    return Setting.query.get(name).value\n",
        "utils.py": "import os\nfrom flask import current_app\n\ndef static_include(filename):\n"
                    "    fullpath = os.path.join(current_app.static_folder, filename)\n"
                    "    with open(fullpath) as f:\n        return f.read()\n",
        "templates/t.html": "{{ static_include('images/x.svg')|safe }}\n{{ static_include(name)|safe }}\n"
                            "{{ setting('footer')|safe }}\n",
    })
    assert [f.line for f in findings(root, "H313")] == [2, 3]


def test_safe_on_a_constant_every_context_processor_gives_is_not_reported(tmp_path):
    # anitya: @app.context_processor returns dict(bulb_on='<svg ...>'); a name one processor
    # gives from the database, one another module names, and one a template loop binds are data
    root = project(tmp_path, {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n\n\n@app.context_processor\ndef inject():\n"
                  "    return dict(bulb_on=('<svg width=\"16\">'\n                     '</svg>'), motd=Motd.query.first().html,\n"
                  "                icon='<i></i>', badge='<b>')\n\n\ndef more():\n    return {'shared': '<hr>'}\n\n\n"
                  "app.context_processor(more)\n",
        "views.py": "from flask import render_template\n\n\ndef page(user):\n"
                    "    return render_template('t.html', badge=user.badge)\n",
        "templates/t.html": "{{ bulb_on|safe }}\n{{ motd|safe }}\n{{ shared|safe }}\n{{ badge|safe }}\n"
                            "{% for icon in icons %}{{ icon|safe }}{% endfor %}\n",
    })
    assert [f.line for f in findings(root, "H313")] == [2, 4, 5]
    # a processor whose dict is built elsewhere may give any name
    (root / "app.py").write_text((root / "app.py").read_text() + "\n\n@app.context_processor\ndef extra():\n"
                                                                  "    return load_globals()\n")
    assert [f.line for f in findings(root, "H313")] == [1, 2, 3, 4, 5]


def test_safe_on_an_attribute_of_g_the_project_sets_only_to_constants(tmp_path):
    # scrapydweb: g.multinode = ('<label title="multinode">' '<svg ...></svg>' '</label>') before each request
    root = project(tmp_path, {
        "app.py": "from flask import Flask, g\napp = Flask(__name__)\n\n\n@app.before_request\ndef update_g():\n"
                  "    g.multinode = ('<label>'\n                   '<svg></svg></label>')\n"
                  "    g.bio = load_user().bio\n    g.icon = '<i></i>'\n\n\ndef later():\n    g.icon += '<b>'\n",
        "templates/t.html": "{{ g.multinode|safe }}\n{{ g.bio|safe }}\n{{ g.icon|safe }}\n",
    })
    assert [f.line for f in findings(root, "H313")] == [2, 3]


def test_html_in_view_through_variable_and_tuple(tmp_path):
    root = project(tmp_path, APP + "@app.get('/a')\ndef a():\n    page = '<p>%s</p>' % request.args['q']\n"
                                   "    return page, 200\n"
                                   "@app.get('/b')\ndef b():\n    return f'{request.args[\"q\"]} items'\n")
    (found,) = findings(root, "H315")
    assert found.line == 6 and "request.args['q']" in found.message and found.fix is None


def test_safe_filter_on_a_variable_a_view_fills_from_the_request(tmp_path):
    root = project(tmp_path, {
        "app.py": "from flask import Flask, render_template, request\napp = Flask(__name__)\n"
                  "@app.get('/s')\ndef search():\n    term = request.args.get('q', '')\n"
                  "    return render_template('search.html', term=term, count=3)\n",
        "templates/search.html": "<p>{{ term|safe }}</p>\n<p>{{ count|safe }}</p>\n",
    })
    term, count = sorted(findings(root, "H313"), key=lambda f: f.line)
    assert "request data passed by search()" in term.message and str(term.confidence) == "high"
    assert str(count.confidence) == "medium"


@pytest.mark.parametrize("view", [
    "@app.get('/hi')\ndef hi():\n    return f\"<h1>Hi {request.args['name']}</h1>\"\n",
    "@ app . get ('/hi')\ndef hi():\n    return f\"<h1>Hi {request.args['name']}</h1>\"\n",
    "@(app).route('/hi')\ndef hi():\n    return f\"\\x3ch1>Hi {request.args['name']}</h1>\"\n",
    "@app.route('/hi')\ndef hi():\n    return f\"\\N{LESS-THAN SIGN}b>{request.args['name']}\\74/b>\"\n",
])
def test_html_in_view_prefilter_lets_every_view_shape_through(tmp_path, view):
    # H315 parses only modules with a route decorator and a "<" written some way
    from hardener_codemods.xss import HtmlBuiltInView

    source = "from flask import Flask, request\napp = Flask(__name__)\n" + view
    assert HtmlBuiltInView.wants(source.encode())
    (tmp_path / "app.py").write_text(source)
    assert len(findings(tmp_path, "H315")) == 1


def test_html_in_view_prefilter_skips_modules_without_views():
    from hardener_codemods.xss import HtmlBuiltInView

    assert not HtmlBuiltInView.wants(b"import flask\nif a < b:\n    x = d.get(1)\n")
    assert not HtmlBuiltInView.wants(b"@app.route('/')\ndef f():\n    return '<b>x</b>'\n")  # nothing Flask
