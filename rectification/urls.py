from django.urls import path

from rectification import bulk_views, item_views, repeat_views, views

app_name = "rectification"


def _item(action: str, view: type, name: str):  # type: ignore[no-untyped-def]
    """An item action's endpoint: POST /items/<id>/<action>/."""
    return path(f"items/<id:pk>/{action}/", view.as_view(), name=name)


urlpatterns = [
    path("", views.LedgerListView.as_view(), name="ledger"),
    path("todo/", views.WorklistView.as_view(), name="worklist"),
    path("ledger/export/", views.LedgerExportView.as_view(), name="export"),
    path("ledger/exports/<uuid:pk>/", views.ExportJobView.as_view(), name="export-job"),
    path(
        "ledger/exports/<uuid:pk>/download/",
        views.ExportJobDownloadView.as_view(),
        name="export-download",
    ),
    path("ledger/bulk-assign/", bulk_views.BulkAssignView.as_view(), name="bulk-assign"),
    path("ledger/bulk-follow-up/", bulk_views.BulkFollowUpView.as_view(), name="bulk-follow-up"),
    path("ledger/repeats/", repeat_views.RepeatsView.as_view(), name="repeats"),
    path("items/<id:pk>/", item_views.ItemDetailView.as_view(), name="item-detail"),
    path(
        "items/<id:pk>/supervision/",
        item_views.SupervisionView.as_view(),
        name="item-supervision",
    ),
    _item("assign", item_views.AssignView, "item-assign"),
    _item("plan", item_views.PlanView, "item-plan"),
    _item("plan/decide", item_views.PlanDecisionView, "item-plan-decide"),
    _item("progress", item_views.ProgressView, "item-progress"),
    _item("milestones/report", item_views.MilestoneReportView, "item-milestone-report"),
    _item("milestones/decide", item_views.MilestoneDecisionView, "item-milestone-decide"),
    _item("submit", item_views.SubmitView, "item-submit"),
    _item("head-signoff", item_views.HeadSignoffView, "item-head-signoff"),
    _item("return", item_views.ReturnView, "item-return"),
    _item("first-review", item_views.FirstReviewView, "item-first-review"),
    _item("second-review", item_views.SecondReviewView, "item-second-review"),
    _item("reopen", item_views.ReopenView, "item-reopen"),
    _item("follow-ups/schedule", item_views.FollowUpScheduleView, "item-follow-up-schedule"),
    _item("follow-ups/record", item_views.FollowUpRecordView, "item-follow-up-record"),
    _item("extensions", item_views.ExtensionRequestView, "item-extension-request"),
    _item("extensions/decide", item_views.ExtensionDecisionView, "item-extension-decide"),
    path("evidence/<id:pk>/", views.EvidenceDownloadView.as_view(), name="evidence-download"),
]
