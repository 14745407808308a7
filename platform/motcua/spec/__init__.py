"""Procedure specs: the model, how a YAML file becomes one, and the linter."""

from motcua.spec.model import Level, ProcedureSpec, localize

__all__ = ["Level", "ProcedureSpec", "localize"]
