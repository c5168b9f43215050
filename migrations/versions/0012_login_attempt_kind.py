"""login attempts say what they checked: the password or the second factor's code

Rows written before this revision were all password attempts.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "login_attempts",
        sa.Column("kind", sa.String(length=16), server_default="password", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_login_attempts_kind_known"),
        "login_attempts",
        "kind IN ('password', 'second_factor')",
    )


def downgrade():
    op.drop_constraint(op.f("ck_login_attempts_kind_known"), "login_attempts", type_="check")
    op.drop_column("login_attempts", "kind")
