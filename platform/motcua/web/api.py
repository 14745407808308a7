"""Blueprint: api. (Not built yet: see the open issues.)"""

from flask import Blueprint

bp = Blueprint("api", __name__)
