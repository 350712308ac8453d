"""The account pages of our own, before django.contrib.auth's (included after these)."""

from django.urls import path

from accounts.views import PasswordResetConfirmView, two_factor_setup, two_factor_verify

urlpatterns = [
    # Before django.contrib.auth's own: a successful reset also lifts a sign-in lock.
    path(
        "reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("two-factor/", two_factor_verify, name="two_factor_verify"),
    path("two-factor/setup/", two_factor_setup, name="two_factor_setup"),
]
