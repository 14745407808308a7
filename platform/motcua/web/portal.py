"""Blueprint: portal. (Not built yet: see the open issues.)"""

from flask import Blueprint

bp = Blueprint("portal", __name__)
