from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    # No models: everything here is read from the ledger through its selectors.
    name = "dashboard"
    verbose_name = _("Dashboard")
