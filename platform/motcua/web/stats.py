"""Blueprint: stats. (Not built yet: see the open issues.)"""

from flask import Blueprint

bp = Blueprint("stats", __name__)
