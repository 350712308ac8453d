"""The account pages of our own, before django.contrib.auth's (included after these)."""

from django.urls import path

from accounts.views import (
    PasswordResetConfirmView,
    SignOutView,
    profile,
    two_factor_setup,
    two_factor_verify,
)

urlpatterns = [
    # A GET shows a confirmation page instead of Django's blank 405.
    path("logout/", SignOutView.as_view(), name="logout"),
    # Before django.contrib.auth's own: a successful reset also lifts a sign-in lock.
    path(
        "reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("profile/", profile, name="profile"),
    path("two-factor/", two_factor_verify, name="two_factor_verify"),
    path("two-factor/setup/", two_factor_setup, name="two_factor_setup"),
]
