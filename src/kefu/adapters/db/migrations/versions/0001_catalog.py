"""Catalog and orders: customers, sellers, products, orders, lines, gifts, payments, deliveries,
tracking events.

Revision ID: 0001_catalog
Revises:
Create Date: 2024-05-01

The allowed values in the CHECK constraints are written out here rather than read from the
enums, so that this migration keeps creating the same schema when the enums grow later (a later
migration then widens the constraint).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from kefu.adapters.db.base import UTCDateTime

revision = "0001_catalog"
down_revision = None
branch_labels = None
depends_on = None

CATEGORIES = (
    "phone", "camera", "laptop", "tablet", "electronics", "appliance", "clothing", "shoes", "bags",
    "diaper", "baby", "toy", "home", "furniture", "book", "periodical", "food", "fresh_food",
    "health_supplement", "personal_care", "intimate_apparel", "cosmetics", "jewelry", "gold",
    "watch", "virtual", "software", "custom_made", "other",
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _money() -> sa.types.TypeEngine[Any]:
    return sa.Numeric(precision=14, scale=2)


def _moment() -> UTCDateTime:
    return UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("created_at", _moment(), nullable=False),
        sa.CheckConstraint(_one_of("level", ("regular", "plus", "enterprise")),
                           name=op.f("ck_customers_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_table(
        "sellers",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("created_at", _moment(), nullable=False),
        sa.CheckConstraint(_one_of("type", ("self_operated", "third_party")), name=op.f("ck_sellers_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sellers")),
    )
    op.create_table(
        "products",
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("seller_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("price", _money(), nullable=False),
        sa.Column("warranty_days", sa.Integer(), nullable=False),
        sa.Column("services", _json(), nullable=False),
        sa.Column("price_protection_days", sa.Integer(), nullable=False),
        sa.Column("non_returnable", sa.Boolean(), nullable=False),
        sa.Column("attributes", _json(), nullable=False),
        sa.CheckConstraint(_one_of("category", CATEGORIES), name=op.f("ck_products_category")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_products_price")),
        sa.CheckConstraint("warranty_days >= 0", name=op.f("ck_products_warranty_days")),
        sa.CheckConstraint("price_protection_days >= 0", name=op.f("ck_products_price_protection_days")),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"], name=op.f("fk_products_seller_id_sellers")),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_products")),
    )
    op.create_index(op.f("ix_products_category"), "products", ["category"])
    op.create_index(op.f("ix_products_seller_id"), "products", ["seller_id"])

    op.create_table(
        "orders",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("seller_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("paid_at", _moment(), nullable=False),
        sa.Column("shipping_insurance", sa.Boolean(), nullable=False),
        sa.Column("total_paid", _money(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _moment(), nullable=False),
        sa.Column("updated_at", _moment(), nullable=False),
        sa.CheckConstraint(_one_of("status", ("paid", "shipped", "delivered", "completed", "cancelled")),
                           name=op.f("ck_orders_status")),
        sa.CheckConstraint("total_paid >= 0", name=op.f("ck_orders_total_paid")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_orders_customer_id_customers")),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"], name=op.f("fk_orders_seller_id_sellers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index("ix_orders_customer_id_paid_at", "orders", ["customer_id", "paid_at"])
    op.create_index("ix_orders_seller_id_paid_at", "orders", ["seller_id", "paid_at"])

    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", _money(), nullable=False),
        sa.Column("paid_amount", _money(), nullable=False),
        sa.Column("warranty_days", sa.Integer(), nullable=True),
        sa.Column("services", _json(), nullable=False),
        sa.Column("price_protection_days", sa.Integer(), nullable=False),
        sa.Column("non_returnable_confirmed", sa.Boolean(), nullable=False),
        sa.CheckConstraint(_one_of("category", CATEGORIES), name=op.f("ck_order_lines_category")),
        sa.CheckConstraint("line_no >= 0", name=op.f("ck_order_lines_line_no")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_order_lines_unit_price")),
        sa.CheckConstraint("paid_amount >= 0", name=op.f("ck_order_lines_paid_amount")),
        sa.CheckConstraint("price_protection_days >= 0",
                           name=op.f("ck_order_lines_price_protection_days")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.UniqueConstraint("order_id", "line_no", name="uq_order_lines_order_id_line_no"),
    )
    op.create_index(op.f("ix_order_lines_sku"), "order_lines", ["sku"])

    op.create_table(
        "order_gifts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", _money(), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_order_gifts_value")),
        sa.ForeignKeyConstraint(["line_id"], ["order_lines.id"],
                                name=op.f("fk_order_gifts_line_id_order_lines"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_gifts")),
    )
    op.create_index(op.f("ix_order_gifts_line_id"), "order_gifts", ["line_id"])

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_payments_amount")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_order_id"), "payments", ["order_id"])

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("carrier", sa.String(16), nullable=False),
        sa.Column("carrier_name", sa.String(64), nullable=False),
        sa.Column("tracking_no", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("shipped_at", _moment(), nullable=True),
        sa.Column("signed_at", _moment(), nullable=True),
        sa.Column("arrived_at", _moment(), nullable=True),
        sa.CheckConstraint(_one_of("carrier", ("platform", "self_pickup", "third_party")),
                           name=op.f("ck_deliveries_carrier")),
        sa.CheckConstraint(_one_of("status", ("signed", "in_transit", "lost")),
                           name=op.f("ck_deliveries_status")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_deliveries_order_id_orders"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("order_id", name=op.f("uq_deliveries_order_id")),
    )

    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("at", _moment(), nullable=False),
        sa.Column("location", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"],
                                name=op.f("fk_tracking_events_delivery_id_deliveries"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
    )
    op.create_index("ix_tracking_events_delivery_id_at", "tracking_events", ["delivery_id", "at"])


def downgrade() -> None:
    for table in ("tracking_events", "deliveries", "payments", "order_gifts", "order_lines", "orders",
                  "products", "sellers", "customers"):
        op.drop_table(table)
