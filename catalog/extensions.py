"""Extensions, created unbound and bound to the app in create_app."""

from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from catalog.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
security = Security()
csrf = CSRFProtect()
