from django.db import models
from django.utils.translation import gettext_lazy as _


class BudgetAdvice(models.TextChoices):
    """What the evaluation says about next year's budget of a project (预算挂钩意见)."""

    SUPPORT = "support", _("Support")
    REDUCE = "reduce", _("Reduce")
    DEFER = "defer", _("Defer")
    AFTER_RECTIFICATION = "after_rectification", _("Fund after rectification")


class RectificationState(models.TextChoices):
    """Where a project's rectification stands, as the budget rule reads it (one per result,
    from its items; ``rules.rectification_state``)."""

    NONE = "none", _("No rectification items")
    DONE = "done", _("All closed")
    UNDER_WAY = "under_way", _("Under way")
    OVERDUE = "overdue", _("Overdue items")


class RedactionKind(models.TextChoices):
    """What the redaction check finds in a text about to be published (脱敏检查)."""

    NAME = "name", _("Personal name")
    PHONE = "phone", _("Telephone number")
    ID_NUMBER = "id_number", _("ID number")
    EMAIL = "email", _("E-mail address")
