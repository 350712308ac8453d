from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rectification"
    verbose_name = _("Rectification ledger")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from rectification.export_jobs import delete_file
        from rectification.models import ExportJob

        post_delete.connect(delete_file, sender=ExportJob, dispatch_uid="export-job-file")
