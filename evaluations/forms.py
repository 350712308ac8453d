from __future__ import annotations

from pathlib import PurePath

from django import forms
from django.conf import settings

ALLOWED_SUFFIXES = {".xlsx", ".csv", ".yaml", ".yml"}


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="汇总表文件", help_text="支持 .xlsx、.csv（官方表样）和 .yaml")
    year = forms.IntegerField(
        label="评价年度",
        required=False,
        min_value=2000,
        max_value=2100,
        help_text="文件标题中已有年度时可不填",
    )
    deadline = forms.DateField(
        label="整改时限",
        required=False,
        help_text="新建整改事项的整改时限，可留空稍后分配",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_file(self):  # type: ignore[no-untyped-def]
        upload = self.cleaned_data["file"]
        if PurePath(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError("只能上传 .xlsx、.csv 或 .yaml 文件", code="suffix")
        if upload.size > settings.LIWAN_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"文件超过 {settings.LIWAN_IMPORT_MAX_BYTES // 1048576} MB", code="too_large"
            )
        return upload


class ImportConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
