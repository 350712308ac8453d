from django.urls import path

from rectification import bulk_views, views

app_name = "rectification"

urlpatterns = [
    path("", views.LedgerListView.as_view(), name="ledger"),
    path("todo/", views.WorklistView.as_view(), name="worklist"),
    path("ledger/export/", views.LedgerExportView.as_view(), name="export"),
    path("ledger/bulk-assign/", bulk_views.BulkAssignView.as_view(), name="bulk-assign"),
    path("items/<id:pk>/", views.ItemDetailView.as_view(), name="item-detail"),
    path("items/<id:pk>/assign/", views.AssignView.as_view(), name="item-assign"),
    path("items/<id:pk>/measures/", views.MeasuresView.as_view(), name="item-measures"),
    path("items/<id:pk>/progress/", views.ProgressView.as_view(), name="item-progress"),
    path("items/<id:pk>/submit/", views.SubmitView.as_view(), name="item-submit"),
    path("items/<id:pk>/return/", views.ReturnView.as_view(), name="item-return"),
    path("items/<id:pk>/close/", views.CloseView.as_view(), name="item-close"),
    path("items/<id:pk>/reopen/", views.ReopenView.as_view(), name="item-reopen"),
    path(
        "items/<id:pk>/extensions/",
        views.ExtensionRequestView.as_view(),
        name="item-extension-request",
    ),
    path(
        "items/<id:pk>/extensions/<id:extension_pk>/decide/",
        views.ExtensionDecisionView.as_view(),
        name="item-extension-decide",
    ),
    path("evidence/<id:pk>/", views.EvidenceDownloadView.as_view(), name="evidence-download"),
]
