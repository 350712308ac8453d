from django.db import models


class Note(models.Model):
    """Never stored (no table): it exists so migrate creates permissions for a late app."""

    text = models.TextField()

    class Meta:
        managed = False

    def __str__(self) -> str:
        return self.text
