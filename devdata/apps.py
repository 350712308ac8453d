from django.apps import AppConfig


class DevdataConfig(AppConfig):
    """Made-up data for trying and measuring the ledger: the demo accounts and the lived-in
    2020 ledger of ``make run`` (``seed_demo``) and synthetic city-scale data for the benchmarks
    (``seed_scale``). No models; every command refuses to run with DEBUG off."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "devdata"
    verbose_name = "Demo and benchmark data"
