from typing import Any

from django.conf import settings
from django.core import checks

from results.rules import rule_table_errors


@checks.register(checks.Tags.compatibility)
def budget_rules_complete(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A rule table with a missing cell would fail on the budget sheet: refuse it at start."""
    return [
        checks.Error(message, id="results.E001")
        for message in rule_table_errors(settings.LIWAN_BUDGET_RULES)
    ]
