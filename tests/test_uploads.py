"""H401 upload-unsafe-filename and H402 upload-size-unlimited beyond their examples."""

from __future__ import annotations

import subprocess
import sys

from rewrite_helpers import APP, findings, fix, fix_twice, project


def test_flask_docs_pattern_is_left_alone(tmp_path):
    root = project(tmp_path, APP + """
        import os
        from werkzeug.utils import secure_filename
        ALLOWED_EXTENSIONS = {"txt"}
        def allowed_file(filename):
            return "." in filename and filename.rsplit(".", 1)[1].lower() in ALLOWED_EXTENSIONS
        @app.route("/", methods=["POST"])
        def upload_file():
            file = request.files["file"]
            if file.filename == "":
                return "no file", 400
            if file and allowed_file(file.filename):
                filename = secure_filename(file.filename)
                file.save(os.path.join("uploads", filename))
            return "ok"
    """)
    assert findings(root, "H401") == []


def test_view_that_already_checks_extensions_gets_no_second_check(tmp_path):
    root = project(tmp_path, APP + """
        import os
        ALLOWED_EXTENSIONS = {"txt"}
        def allowed_file(filename):
            return filename.rsplit(".", 1)[-1] in ALLOWED_EXTENSIONS
        @app.post("/up")
        def up():
            f = request.files["f"]
            if not allowed_file(f.filename):
                return "bad", 400
            f.save(os.path.join("uploads", f.filename))
            return "ok"
    """)
    texts, left = fix(root, "H401")
    app = texts["app.py"]
    assert "filename = secure_filename(f.filename)\n    if not filename:\n        abort(400)\n" in app
    assert "not allowed_file(filename)" not in app
    assert left == []


def test_name_used_in_two_steps_and_idempotent(tmp_path):
    root = project(tmp_path, APP + """
        import os
        @app.post("/up")
        def up():
            upload = request.files.get("doc")
            base = upload.filename  # as sent
            dest = os.path.join("/srv/files", base)
            upload.save(dest)
            return base
    """)
    files = fix_twice(root, "H401")
    app = files["app.py"]
    assert "base = secure_filename(upload.filename)  # as sent\n    if not base:\n        abort(400)\n" in app
    assert "from werkzeug.utils import secure_filename" in app


def test_fixed_view_keeps_uploads_inside_the_folder(tmp_path):
    root = project(tmp_path, APP + """
        import os
        app.config["UPLOAD_FOLDER"] = os.path.join(app.root_path, "a", "b", "uploads")
        @app.post("/up")
        def up():
            file = request.files["file"]
            os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
            file.save(os.path.join(app.config["UPLOAD_FOLDER"], file.filename))
            return "saved"
    """)
    fix_twice(root, "H401")
    probe = (
        "import io, os, sys\nsys.path.insert(0, '.')\nfrom app import app\nc = app.test_client()\n"
        "for name in ('../../evil.txt', 'ok.txt', '..'):\n"
        "    r = c.post('/up', data={'file': (io.BytesIO(b'x'), name)}, content_type='multipart/form-data')\n"
        "    print(name, r.status_code)\n"
        "print(os.path.exists('a/evil.txt'), os.path.exists('a/b/uploads/evil.txt'), os.path.exists('a/b/uploads/ok.txt'))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["../../evil.txt 200", "ok.txt 200", ".. 400", "False True True"]


def test_max_content_length_goes_into_the_update_call(tmp_path):
    root = project(tmp_path, APP + """
        app.config.update(UPLOAD_FOLDER="up", TESTING=False)
        @app.post("/up")
        def up():
            request.files["f"].save("up/x")
            return ""
    """)
    texts, left = fix(root, "H402", unsafe=False)
    assert 'app.config.update(UPLOAD_FOLDER="up", TESTING=False, MAX_CONTENT_LENGTH=16 * 1024 * 1024)' in texts["app.py"]
    assert left == []


def test_max_content_length_set_anywhere_counts(tmp_path):
    root = project(tmp_path, {
        "app.py": APP + "from settings import Base\napp.config.from_object(Base)\n"
                        "@app.post('/up')\ndef up():\n    return str(len(request.files))\n",
        "settings.py": "class Base:\n    DEBUG = False\nclass ProductionConfig(Base):\n    MAX_CONTENT_LENGTH = 10\n",
    })
    assert findings(root, "H402") == []


def test_no_uploads_no_finding(tmp_path):
    root = project(tmp_path, APP + "@app.post('/f')\ndef f():\n    return request.form['files']\n")
    assert findings(root, "H402") == []


def test_allowed_extensions_from_config_and_from_an_imported_helper(tmp_path):
    view = """\
        import os
        from flask import request
        from web import app
        {imports}
        @app.post("/up")
        def up():
            f = request.files["f"]
            f.save(os.path.join("uploads", f.filename))
            return "ok"
    """
    root = project(tmp_path / "a", {
        "web/__init__.py": "from flask import Flask\napp = Flask(__name__)\napp.config['ALLOWED_EXTENSIONS'] = ['.png', '.gif']\n",
        "web/views.py": view.format(imports=""),
    })
    texts, left = fix(root, "H401")
    assert 'if not filename or os.path.splitext(filename)[1].lower() not in current_app.config["ALLOWED_EXTENSIONS"]:' \
        in texts["web/views.py"]
    assert "current_app" in texts["web/views.py"].split("\n@app")[0] and left == []
    root = project(tmp_path / "b", {
        "web/__init__.py": "from flask import Flask\napp = Flask(__name__)\n",
        "web/util.py": "ALLOWED_EXTENSIONS = {'txt'}\n\ndef allowed(name):\n"
                       "    return name.rsplit('.', 1)[-1] in ALLOWED_EXTENSIONS\n",
        "web/views.py": view.format(imports="from web.util import allowed"),
    })
    texts, left = fix(root, "H401")
    assert "if not filename or not allowed(filename):" in texts["web/views.py"]


def test_flask_wtf_file_field(tmp_path):
    root = project(tmp_path, APP + """
        import os
        @app.route("/photo", methods=["GET", "POST"])
        def photo():
            form = PhotoForm()
            if form.validate_on_submit():
                f = form.photo.data
                f.save(os.path.join(app.instance_path, "photos", f.filename))
                return "ok"
            return "form"
    """)
    texts, left = fix(root, "H401")
    assert "filename = secure_filename(f.filename)" in texts["app.py"] and left == []


def test_only_the_extension_of_the_clients_name_is_kept(tmp_path):
    root = project(tmp_path, APP + """
        import os
        import uuid
        @app.post("/a")
        def a():
            f = request.files["file"]
            extension = os.path.splitext(f.filename)[1]
            f.save(os.path.join("uploads", f"{uuid.uuid4().hex}{extension}"))
            return "ok"
        @app.post("/b")
        def b():
            f = request.files["file"]
            f.save(os.path.join("uploads", os.path.splitext(f.filename)[0] + ".png"))
            return "ok"
    """)
    assert [f.line for f in findings(root, "H401")] == [14]


def test_saving_something_else_is_not_an_upload(tmp_path):
    root = project(tmp_path, APP + """
        @app.post("/r")
        def r():
            report = build_report(request.form["title"])
            report.save("/srv/reports/" + request.form["title"])
            img = load()
            img.save(path_for(img))
            return "ok"
    """)
    assert findings(root, "H401") == []


def test_file_field_counts_as_uploads(tmp_path):
    root = project(tmp_path, {
        "app.py": "from flask import Flask\nfrom forms import PhotoForm\napp = Flask(__name__)\n"
                  "app.config['SECRET_KEY_FILE'] = 'k'\n",
        "forms.py": "from flask_wtf import FlaskForm\nfrom flask_wtf.file import FileField\n"
                    "class PhotoForm(FlaskForm):\n    photo = FileField()\n",
    })
    (found,) = findings(root, "H402")
    assert found.path == "forms.py" and found.line == 2
    texts, left = fix(root, "H402")
    assert "app.config['MAX_CONTENT_LENGTH'] = 16 * 1024 * 1024\n" in texts["app.py"]


def test_a_helper_of_the_project_that_takes_the_path_out_of_the_name_counts(tmp_path):
    # fava: filepath_in_document_folder() replaces the separators of the client's name
    root = project(tmp_path, {
        "app.py": APP + "import os\nfrom paths import in_folder, joined, commas, last_piece, first_piece\n"
                        "@app.post('/a')\ndef a():\n    f = request.files['f']\n"
                        "    f.save(in_folder('docs', f.filename))\n    return ''\n"
                        "@app.post('/b')\ndef b():\n    f = request.files['f']\n"
                        "    f.save(joined('docs', f.filename))\n    return ''\n"
                        "@app.post('/c')\ndef c():\n    f = request.files['f']\n"
                        "    f.save(commas(f.filename, 'docs'))\n    return ''\n"
                        # otterwiki: the piece after the last "/" of the name
                        "@app.post('/d')\ndef d():\n    f = request.files['f']\n    name = last_piece(f.filename)\n"
                        "    f.save(os.path.join('docs', name))\n    return ''\n"
                        "@app.post('/e')\ndef e():\n    f = request.files['f']\n    name = first_piece(f.filename)\n"
                        "    f.save(os.path.join('docs', name))\n    return ''\n",
        "paths.py": "import os\nfrom os import sep\n\ndef in_folder(folder, filename):\n"
                    "    filename = filename.replace(sep, ' ')\n    return os.path.join(folder, filename)\n\n"
                    "def joined(folder, filename):\n    folder = os.path.basename(folder)\n"
                    "    return os.path.join(folder, filename)\n\n"
                    "def commas(name, folder, sep=','):\n    name = name.replace(sep, ' ')\n"
                    "    return os.path.join(folder, name)\n\n"
                    "def last_piece(value):\n    value = value.replace('\\\\', '/').split('/')[-1]\n    return value\n\n"
                    "def first_piece(value):\n    value = value.split('/')[0]\n    return value\n",
    })
    assert sorted(f.line for f in findings(root, "H401")) == [13, 18, 30]
