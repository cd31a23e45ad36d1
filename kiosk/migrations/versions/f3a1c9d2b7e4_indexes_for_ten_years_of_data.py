"""Indexes for ten years of data: a resident's page and the loans ledger's history (issue 9)

Without them a resident's page reads every registration and concern of the hall to find one
resident's, and the ledger's history sorts all loans to show the newest fifty.

Revision ID: f3a1c9d2b7e4
Revises: edccece83a24
Create Date: 2026-11-24 03:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3a1c9d2b7e4'
down_revision = 'edccece83a24'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_registration_guardian_created", "registration", ["guardian_id", "created_at"]),
    ("ix_concern_resident_created", "concern", ["resident_id", "created_at"]),
    ("ix_loan_borrowed", "loan", ["borrowed_at", "id"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
