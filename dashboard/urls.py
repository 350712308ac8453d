from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="index"),
    path(
        "units/<id:unit_id>/<id:year>/report/",
        views.UnitReportView.as_view(),
        name="unit-report",
    ),
    path(
        "units/<id:unit_id>/<id:year>/report.docx",
        views.UnitReportDocxView.as_view(),
        name="unit-report-docx",
    ),
    path(
        "units/<id:unit_id>/<id:year>/closure-list/",
        views.ClosureListView.as_view(),
        name="closure-list",
    ),
    path(
        "units/<id:unit_id>/<id:year>/closure-list.docx",
        views.ClosureListDocxView.as_view(),
        name="closure-list-docx",
    ),
    path(
        "units/<id:unit_id>/<id:year>/supervision-slip/",
        views.SupervisionSlipView.as_view(),
        name="supervision-slip",
    ),
    path(
        "units/<id:unit_id>/<id:year>/instruction/",
        views.UnitInstructionView.as_view(),
        name="unit-instruction",
    ),
    path(
        "units/<id:unit_id>/<id:year>/supervision-slip.docx",
        views.SupervisionSlipDocxView.as_view(),
        name="supervision-slip-docx",
    ),
]
