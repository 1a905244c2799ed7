"""query support: indexes on the task filter columns; read-only views final_dataset and round_figures

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (name, table, columns): what `pool list`, `export` and the API filter and page on.
INDEXES = [
    ("ix_tasks_pool_id_id", "tasks", ["pool_id", "id"]),
    ("ix_tasks_pool_id_origin", "tasks", ["pool_id", "origin"]),
    ("ix_tasks_pool_id_created_at", "tasks", ["pool_id", "created_at"]),
    ("ix_tasks_pool_id_nearest_score", "tasks", ["pool_id", "nearest_score"]),
    ("ix_rejections_task_id", "rejections", ["task_id"]),
]

# One row per instance of every complete task: what an export of the pool contains.
FINAL_DATASET = """
CREATE VIEW final_dataset AS
SELECT p.name AS pool, t.id AS task_id, t.round_id, t.origin, t.instruction, t.is_classification,
       t.nearest_score, i.position AS instance_position, i.input, i.output, t.created_at
FROM tasks t
JOIN pools p ON p.id = t.pool_id
JOIN instances i ON i.task_id = t.id
WHERE t.status = 'complete'
"""

# One row per round: target, tasks by status, rejections, requests, tokens and cost.
ROUND_FIGURES = """
CREATE VIEW round_figures AS
SELECT r.id AS round_id, p.name AS pool, r.status, r.mode, r.target, r.end_reason,
       r.created_at, r.finished_at,
       (SELECT COUNT(*) FROM tasks t WHERE t.round_id = r.id) AS admitted,
       (SELECT COUNT(*) FROM tasks t WHERE t.round_id = r.id AND t.status = 'complete') AS complete,
       (SELECT COUNT(*) FROM tasks t WHERE t.round_id = r.id AND t.status = 'no_instances') AS no_instances,
       (SELECT COUNT(*) FROM rejections j WHERE j.round_id = r.id) AS rejections,
       (SELECT COUNT(*) FROM llm_requests q WHERE q.round_id = r.id) AS requests,
       (SELECT COUNT(*) FROM llm_requests q WHERE q.round_id = r.id AND q.error IS NOT NULL)
           AS failed_requests,
       (SELECT COALESCE(SUM(q.prompt_tokens), 0) FROM llm_requests q WHERE q.round_id = r.id)
           AS prompt_tokens,
       (SELECT COALESCE(SUM(q.completion_tokens), 0) FROM llm_requests q WHERE q.round_id = r.id)
           AS completion_tokens,
       (SELECT SUM(q.cost_usd) FROM llm_requests q WHERE q.round_id = r.id) AS cost_usd
FROM rounds r
JOIN pools p ON p.id = r.pool_id
"""


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.execute(FINAL_DATASET)
    op.execute(ROUND_FIGURES)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS round_figures")
    op.execute("DROP VIEW IF EXISTS final_dataset")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
