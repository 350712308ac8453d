from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "荔湾区财政支出绩效评价整改台账 · 后台"
admin.site.site_title = "整改台账后台"
admin.site.index_title = "后台管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("rectification.urls")),
    # Until the unit portal has its own home page, the back-office is the front door.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
]
