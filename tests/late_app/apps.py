from django.apps import AppConfig


class LateAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tests.late_app"
    label = "late_app"
