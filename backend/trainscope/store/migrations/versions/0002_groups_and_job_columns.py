"""Groups, and the job columns added since the first schema, each filled from what the database holds:
stored_bytes (its events' size), notes, group_id (from the groups' runs) and dataset (from the spec).
A database from before migrations may have some of them already (added by hand then): only the
missing ones are made.

Revision ID: 0002
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from trainscope.schemas import JobSpec

revision = "0002"
down_revision = "0001"

JOB_COLUMNS = (
    sa.Column("stored_bytes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("group_id", sa.String(32)),
    sa.Column("dataset", sa.String(32), nullable=False, server_default=""),
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if "groups" not in inspector.get_table_names():
        op.create_table(
            "groups",
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("name", sa.String(100), nullable=False),
            sa.Column("lesson", sa.String(64)),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("runs", sa.Text, nullable=False),
        )
        op.create_index("ix_groups_lesson", "groups", ["lesson"])
    have = {column["name"] for column in inspector.get_columns("jobs")}
    missing = [column for column in JOB_COLUMNS if column.name not in have]
    for column in missing:
        op.add_column("jobs", column)
    indexes = {index["name"] for index in inspector.get_indexes("jobs")}
    for name in ("group_id", "dataset"):
        if f"ix_jobs_{name}" not in indexes:
            op.create_index(f"ix_jobs_{name}", "jobs", [name])
    fill(bind, {column.name for column in missing}, "spec" in have)


def fill(bind: sa.engine.Connection, added: set[str], has_specs: bool) -> None:
    jobs = sa.table("jobs", sa.column("id"), sa.column("spec"), *(sa.column(c.name) for c in JOB_COLUMNS))
    events = sa.table("events", sa.column("job_id"), sa.column("body"))
    groups = sa.table("groups", sa.column("id"), sa.column("runs"))
    if "stored_bytes" in added:
        sizes = (
            sa.select(sa.func.coalesce(sa.func.sum(sa.func.length(events.c.body)), 0))
            .where(events.c.job_id == jobs.c.id)
            .scalar_subquery()
        )
        bind.execute(sa.update(jobs).values(stored_bytes=sizes))
    if "dataset" in added and has_specs:
        for job_id, spec in bind.execute(sa.select(jobs.c.id, jobs.c.spec)).all():
            bind.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id)
                .values(dataset=JobSpec.model_validate_json(spec).dataset_name)
            )
    if "group_id" in added:
        for group_id, runs in bind.execute(sa.select(groups.c.id, groups.c.runs)).all():
            members = [run["job_id"] for run in json.loads(runs)]
            bind.execute(sa.update(jobs).where(jobs.c.id.in_(members)).values(group_id=group_id))


def downgrade() -> None:
    for name in ("group_id", "dataset"):
        op.drop_index(f"ix_jobs_{name}", "jobs")
    for column in reversed(JOB_COLUMNS):
        op.drop_column("jobs", column.name)
    op.drop_table("groups")
