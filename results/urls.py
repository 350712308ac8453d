from django.urls import path

from results import publication_views, views

app_name = "results"

urlpatterns = [
    path("budget/", views.BudgetSheetView.as_view(), name="budget-sheet"),
    path("budget.xlsx", views.BudgetSheetXlsxView.as_view(), name="budget-sheet-xlsx"),
    path("budget/<id:pk>/", views.BudgetDecisionView.as_view(), name="budget-decision"),
    path("report/", views.LeadersReportView.as_view(), name="leaders-report"),
    path("report.docx", views.LeadersReportDocxView.as_view(), name="leaders-report-docx"),
    path("publication/", publication_views.PublicationDraftView.as_view(), name="publication"),
    path(
        "publication/jobs/<id:pk>/",
        publication_views.PublicationJobView.as_view(),
        name="publication-job",
    ),
    path(
        "publication/wording/<id:pk>/",
        publication_views.PublicWordingView.as_view(),
        name="public-wording",
    ),
    # Public: no sign-in.
    path("public/", publication_views.PublicIndexView.as_view(), name="public-index"),
    path(
        "public/<id:pk>/",
        publication_views.PublicPublicationView.as_view(),
        name="public-publication",
    ),
    path(
        "public/<id:pk>.docx",
        publication_views.PublicationDocxView.as_view(),
        name="public-publication-docx",
    ),
    path(
        "public/<id:pk>.pdf",
        publication_views.PublicationPdfView.as_view(),
        name="public-publication-pdf",
    ),
]
