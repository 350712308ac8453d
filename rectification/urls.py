from django.urls import path

from rectification import views

app_name = "rectification"

urlpatterns = [
    path("ledger/export/", views.LedgerExportView.as_view(), name="export"),
]
