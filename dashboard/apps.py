from django.apps import AppConfig
from django.db.models.signals import m2m_changed
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    # No models: everything here is read from the ledger through its selectors.
    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        from dashboard.selectors import forget_category_breakdown
        from evaluations.models import Finding

        # Taking a category off a finding (the back-office, ``finding.categories.remove/set/
        # clear``) changes the category breakdown the dashboard keeps in the cache; adding one
        # is seen without this (see dashboard.selectors._cached_category_summary).
        m2m_changed.connect(
            forget_category_breakdown,
            sender=Finding.categories.through,
            dispatch_uid="liwan-dashboard-forget-categories",
        )
