"""aftersales, refunds, evidence and the outbox

Revision ID: 0003_aftersales
Revises: 0002_auth
Create Date: 2026-11-23 06:12:07.840321
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kefu.adapters.db.base

revision = '0003_aftersales'
down_revision = '0002_auth'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('event', sa.String(length=48), nullable=False),
    sa.Column('customer_id', sa.String(length=32), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('read', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_outbox_messages_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_inbox', ['customer_id', 'channel', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_pending', ['status', 'available_at'], unique=False)

    op.create_table('aftersales_applications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.String(length=32), nullable=False),
    sa.Column('seller_id', sa.String(length=32), nullable=False),
    sa.Column('seller_type', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('facts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('decision', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('refund_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('return_shipping_paid_by', sa.String(length=16), nullable=True),
    sa.Column('free_pickup', sa.Boolean(), nullable=False),
    sa.Column('repair_charge', sa.String(length=8), nullable=True),
    sa.Column('due_kind', sa.String(length=24), nullable=True),
    sa.Column('due_at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pickup_at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pickup_address', sa.Text(), nullable=True),
    sa.Column('return_waybill', sa.String(length=64), nullable=True),
    sa.Column('return_carrier', sa.String(length=64), nullable=True),
    sa.Column('inspection_passed', sa.Boolean(), nullable=True),
    sa.Column('inspection_notes', sa.Text(), nullable=True),
    sa.Column('replacement_waybill', sa.String(length=64), nullable=True),
    sa.Column('refunded_at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_aftersales_applications_quantity_positive')),
    sa.CheckConstraint('rating IS NULL OR (rating BETWEEN 1 AND 5)', name=op.f('ck_aftersales_applications_rating_range')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_aftersales_applications_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_aftersales_applications_order_id_orders')),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_aftersales_applications_seller_id_sellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftersales_applications')),
    sa.UniqueConstraint('number', name=op.f('uq_aftersales_applications_number'))
    )
    with op.batch_alter_table('aftersales_applications', schema=None) as batch_op:
        batch_op.create_index('ix_aftersales_customer', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_aftersales_open_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_aftersales_order_line', ['order_id', 'line_no'], unique=False)
        batch_op.create_index('ix_aftersales_seller_due', ['seller_id', 'status', 'due_at'], unique=False)

    op.create_table('aftersales_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['aftersales_applications.id'], name=op.f('fk_aftersales_events_application_id_aftersales_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftersales_events'))
    )
    with op.batch_alter_table('aftersales_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aftersales_events_application_id'), ['application_id'], unique=False)

    op.create_table('evidence_files',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('created_at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['aftersales_applications.id'], name=op.f('fk_evidence_files_application_id_aftersales_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_files')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_evidence_files_storage_key'))
    )
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_files_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_files_uploaded_by'), ['uploaded_by'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', kefu.adapters.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_refunds_amount_not_negative')),
    sa.ForeignKeyConstraint(['application_id'], ['aftersales_applications.id'], name=op.f('fk_refunds_application_id_aftersales_applications')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refunds_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('application_id', 'method', name='uq_refunds_application_method')
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_application_id'), ['application_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_application_id'))

    op.drop_table('refunds')
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_files_uploaded_by'))
        batch_op.drop_index(batch_op.f('ix_evidence_files_application_id'))

    op.drop_table('evidence_files')
    with op.batch_alter_table('aftersales_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aftersales_events_application_id'))

    op.drop_table('aftersales_events')
    with op.batch_alter_table('aftersales_applications', schema=None) as batch_op:
        batch_op.drop_index('ix_aftersales_seller_due')
        batch_op.drop_index('ix_aftersales_order_line')
        batch_op.drop_index('ix_aftersales_open_due')
        batch_op.drop_index('ix_aftersales_customer')

    op.drop_table('aftersales_applications')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')
        batch_op.drop_index('ix_outbox_inbox')

    op.drop_table('outbox_messages')

