"""Blueprint: backoffice. (Not built yet: see the open issues.)"""

from flask import Blueprint

bp = Blueprint("backoffice", __name__)
