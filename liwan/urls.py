from django.contrib import admin
from django.urls import include, path

from accounts.views import PasswordResetConfirmView, two_factor_setup, two_factor_verify
from liwan.views import healthz

admin.site.site_header = "荔湾区财政支出绩效评价整改台账 · 后台"
admin.site.site_title = "整改台账后台"
admin.site.index_title = "后台管理"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Before django.contrib.auth's own: a successful reset also lifts a sign-in lock.
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/two-factor/", two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", two_factor_setup, name="two_factor_setup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dashboard/", include("dashboard.urls")),
    path("", include("rectification.urls")),
]
