"""Firebase sign-in: a user's password sign-in can be turned off, and login attempts may be
Firebase ID tokens

`password_sign_in` is true for every existing user: nothing changes for them until an admin
turns it off for someone who signs in with Firebase only. A Firebase ID token checked at
/sign-in/firebase leaves a login_attempts row of kind 'firebase', so the throttle counts its
failures with the passwords' and codes'.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

CONSTRAINT = "ck_login_attempts_kind_known"


def upgrade():
    op.add_column(
        "users",
        sa.Column("password_sign_in", sa.Boolean(), server_default="true", nullable=False),
    )
    op.drop_constraint(op.f(CONSTRAINT), "login_attempts", type_="check")
    op.create_check_constraint(
        op.f(CONSTRAINT), "login_attempts", "kind IN ('password', 'second_factor', 'firebase')"
    )


def downgrade():
    op.execute("DELETE FROM login_attempts WHERE kind = 'firebase'")
    op.drop_constraint(op.f(CONSTRAINT), "login_attempts", type_="check")
    op.create_check_constraint(
        op.f(CONSTRAINT), "login_attempts", "kind IN ('password', 'second_factor')"
    )
    op.drop_column("users", "password_sign_in")
