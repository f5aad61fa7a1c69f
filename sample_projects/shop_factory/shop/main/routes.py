from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import text

from shop.extensions import db
from shop.models import Product

bp = Blueprint("main", __name__)


@bp.route("/")
def products():
    items = Product.query.order_by(Product.name).all()
    return render_template("main/products.html", products=items)


@bp.route("/search")
def search():
    q = request.args.get("q", "")
    rows = db.session.execute(text(f"SELECT id, name, price FROM product WHERE name LIKE '%{q}%' ORDER BY name"))
    return render_template("main/products.html", products=rows.fetchall(), q=q)


@bp.route("/cart", methods=["GET", "POST"])
def cart():
    items = session.get("cart", [])
    if request.method == "POST":
        product = db.get_or_404(Product, int(request.form["product_id"]))
        session["cart"] = items + [product.id]
        return redirect(url_for("main.cart"))
    products = [db.session.get(Product, pid) for pid in items]
    total = sum(p.price for p in products)
    return render_template("main/cart.html", products=products, total=total)


@bp.route("/api/products")
def api_products():
    return jsonify([p.to_dict() for p in Product.query.order_by(Product.id)])
