from django.urls import path

from results import views

app_name = "results"

urlpatterns = [
    path("budget/", views.BudgetSheetView.as_view(), name="budget-sheet"),
    path("budget.xlsx", views.BudgetSheetXlsxView.as_view(), name="budget-sheet-xlsx"),
    path("budget/<id:pk>/", views.BudgetDecisionView.as_view(), name="budget-decision"),
    path("report/", views.LeadersReportView.as_view(), name="leaders-report"),
    path("report.docx", views.LeadersReportDocxView.as_view(), name="leaders-report-docx"),
]
