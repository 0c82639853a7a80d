"""Uploaded datasets: each table's description and its rows as float32 bytes. (A database stamped at
the first schema because it predates migrations may have the table already.)

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    if "datasets" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("target", sa.String(8), nullable=False),
        sa.Column("classes", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("features", sa.LargeBinary, nullable=False),
        sa.Column("labels", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("datasets")
