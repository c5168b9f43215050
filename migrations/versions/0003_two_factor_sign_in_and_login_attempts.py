"""two-factor sign-in and login attempts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 19:10:08.476561

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column(
            "attempted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_login_attempts_email_time", ["email", "attempted_at"], unique=False
        )
        batch_op.create_index("ix_login_attempts_ip_time", ["ip", "attempted_at"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tf_primary_method", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("tf_totp_secret", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("tf_phone_number", sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("tf_phone_number")
        batch_op.drop_column("tf_totp_secret")
        batch_op.drop_column("tf_primary_method")

    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_ip_time")
        batch_op.drop_index("ix_login_attempts_email_time")

    op.drop_table("login_attempts")
