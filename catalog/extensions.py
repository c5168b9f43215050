"""Extensions, created unbound and bound to the app in create_app."""

from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from catalog.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def _password_util(app):
    # Flask-Security builds it in init_app; imported late because catalog.accounts imports
    # this module. (init_app's own password_util_cls argument is ignored in 5.9.)
    from catalog.accounts.passwords import CatalogPasswordUtil

    return CatalogPasswordUtil(app)


security = Security(password_util_cls=_password_util)
csrf = CSRFProtect()
