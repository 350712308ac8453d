from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from liwan import clock


class NotifyMode(models.TextChoices):
    """How a person wants to hear that an item is in their court (their profile page)."""

    IMMEDIATE = "immediate", _("At once (reminders still in one daily digest)")
    DAILY = "daily", _("In one daily digest")


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
    # When the password was last set; the optional maximum age (LIWAN_PASSWORD_MAX_AGE_DAYS,
    # liwan.middleware.PasswordExpiryMiddleware) counts from here, or from date_joined when empty.
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    notify_mode = models.CharField(
        _("notifications"), max_length=10, choices=NotifyMode.choices, default=NotifyMode.IMMEDIATE
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = clock.now()


# The records of django-axes, under the names evaluation staff see in the back-office (proxies:
# same tables, Chinese names, permissions of their own for the staff role).


class SignInLock(AccessAttempt):
    """Failed sign-ins counted per username and address; at the limit the pair is locked.
    Deleting the row lifts the lock (the back-office action "解除锁定")."""

    class Meta:
        proxy = True
        verbose_name = "登录失败计数与锁定"
        verbose_name_plural = "登录失败计数与锁定"


class SignInFailure(AccessFailureLog):
    """Every failed sign-in, kept (the last 1,000 per username)."""

    class Meta:
        proxy = True
        verbose_name = "登录失败记录"
        verbose_name_plural = "登录失败记录"


class SignIn(AccessLog):
    """Every successful sign-in, and its sign-out."""

    class Meta:
        proxy = True
        verbose_name = "登录记录"
        verbose_name_plural = "登录记录"
