from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResultsConfig(AppConfig):
    """Using the evaluation results beyond rectification: budget linkage (预算挂钩)."""

    name = "results"
    verbose_name = _("Use of results")

    def ready(self) -> None:
        from results import checks  # noqa: F401 - registers the rule table's system check
