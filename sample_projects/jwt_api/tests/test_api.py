from conftest import auth, login


def test_login_returns_a_token(client):
    response = login(client)
    assert response.status_code == 200
    assert response.get_json()["access_token"].count(".") == 2


def test_login_with_a_wrong_password(client):
    response = login(client, password="nope")
    assert response.status_code == 401
    assert response.get_json() == {"error": "invalid username or password"}


def test_login_with_an_unknown_user(client):
    assert login(client, username="nobody").status_code == 401


def test_notes_need_a_token(client):
    response = client.get("/api/notes")
    assert response.status_code == 401


def test_notes_with_a_token(client):
    token = login(client).get_json()["access_token"]
    response = client.get("/api/notes", headers=auth(token))
    assert response.status_code == 200
    assert response.get_json() == {"owner": "alice", "notes": ["buy milk", "call bob"]}
    response = client.get("/api/notes?limit=1", headers=auth(token))
    assert response.get_json()["notes"] == ["buy milk"]


def test_a_tampered_token_is_refused(client):
    token = login(client).get_json()["access_token"]
    response = client.get("/api/notes", headers=auth(token[:-4] + "AAAA"))
    assert response.status_code in (401, 422)


def test_register_then_login(client):
    response = client.post("/register", json={"username": "carol", "password": "carol-password"})
    assert response.status_code == 201
    assert response.get_json()["username"] == "carol"
    token = login(client, "carol", "carol-password").get_json()["access_token"]
    me = client.get("/api/me", headers=auth(token)).get_json()
    assert me["username"] == "carol" and me["role"] == "user"


def test_register_validates_input(client):
    assert client.post("/register", json={"username": "dave", "password": "short"}).status_code == 400
    assert client.post("/register", json={"username": "alice", "password": "long-enough"}).status_code == 409


def test_admin_stats_for_an_admin(client):
    token = login(client, "root", "root-password").get_json()["access_token"]
    response = client.get("/api/admin/stats", headers=auth(token))
    assert response.status_code == 200
    assert response.get_json() == {"users": 2, "notes": 3}


def test_admin_stats_refuse_a_user(client):
    token = login(client).get_json()["access_token"]
    assert client.get("/api/admin/stats", headers=auth(token)).status_code == 403
    assert client.get("/api/admin/stats").status_code == 401


def test_errors_come_back_as_json(client):
    token = login(client).get_json()["access_token"]
    response = client.get("/api/notes?limit=many", headers=auth(token))
    assert response.status_code == 500
    assert "error" in response.get_json()
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "error" in response.get_json()


def test_five_logins_in_a_row_are_fine(client):
    for _ in range(5):
        assert login(client).status_code == 200
