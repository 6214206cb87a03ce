"""Entity resolution with stable ids: customers (and their contacts) across CRM, U8 and finance.

The one entry point for a build is :func:`resolve_customers`; the engine itself
(:mod:`mappings.identity.engine`) is pure Python and shared by tests and benchmarks.
"""

from mappings.identity.overrides import current_id
from mappings.identity.resolve import ResolveStats, resolve_customers

__all__ = ["ResolveStats", "current_id", "resolve_customers"]
