from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in: evaluation staff, a unit's staff or head, or an oversight reader.

    Chinese names are not split into first and last name, so ``full_name`` holds the whole name
    shown in the ledger (责任人) and in e-mails.
    """

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # A unit user belongs to exactly one unit; staff and oversight readers belong to none.
    unit = models.ForeignKey(
        "evaluations.Unit",
        verbose_name=_("affiliated unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username
