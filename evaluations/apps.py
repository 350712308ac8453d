from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "evaluations"
    verbose_name = _("Evaluation results")

    def ready(self) -> None:
        from evaluations.categories import ensure_default_categories

        # A post_migrate handler rather than a data migration: it also runs after the test
        # runner flushes the tables, so every test database has the taxonomy.
        post_migrate.connect(
            ensure_default_categories, sender=self, dispatch_uid="liwan-default-categories"
        )
