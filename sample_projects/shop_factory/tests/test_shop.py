import re

from conftest import login, post_form


def names(response):
    return re.findall(r'<span class="name">(.*?)</span>', response.get_data(as_text=True))


def test_product_list(client):
    assert names(client.get("/")) == ["Kettle", "Tea cups", "Teapot"]


def test_search(client):
    assert names(client.get("/search?q=Tea")) == ["Tea cups", "Teapot"]
    assert names(client.get("/search?q=kett")) == ["Kettle"]
    assert names(client.get("/search?q=nothing")) == []


def test_register_and_login(client):
    response = post_form(client, "/auth/register", {"email": "bo@example.com", "password": "bo-password"})
    assert response.status_code == 302
    response = login(client, "bo@example.com", "bo-password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_failure(client):
    response = login(client, password="wrong")
    assert b"Invalid email or password." in response.data


def test_login_next(client):
    response = login(client, post_url="/auth/login?next=/cart")
    assert response.headers["Location"] == "/cart"


def test_add_to_cart(client):
    response = post_form(client, "/", {"product_id": "2"}, post_url="/cart")
    assert response.status_code == 302
    post_form(client, "/", {"product_id": "3"}, post_url="/cart")
    page = client.get("/cart").get_data(as_text=True)
    assert re.findall(r"<li>(.*?)</li>", page) == ["Teapot", "Tea cups"]
    assert '<span id="total">2700</span>' in page


def test_api_products(client):
    data = client.get("/api/products").get_json()
    assert data == [
        {"id": 1, "name": "Kettle", "price": 2500},
        {"id": 2, "name": "Teapot", "price": 1800},
        {"id": 3, "name": "Tea cups", "price": 900},
    ]


def test_logout(client):
    login(client)
    assert b"Log out ann@example.com" in client.get("/").data
    response = post_form(client, "/", {}, post_url="/auth/logout")
    assert response.status_code == 302
    assert b"Log in" in client.get("/").data
