from django.contrib import admin
from django.urls import include, path, register_converter

from liwan.converters import IdConverter
from liwan.views import healthz

register_converter(IdConverter, "id")

admin.site.site_header = "荔湾区财政支出绩效评价整改台账 · 后台"
admin.site.site_title = "整改台账后台"
admin.site.index_title = "后台管理"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Ours first: they replace or add to django.contrib.auth's pages.
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dashboard/", include("dashboard.urls")),
    path("calendar/", include("calendars.urls")),
    path("results/", include("results.urls")),
    path("", include("rectification.urls")),
]
