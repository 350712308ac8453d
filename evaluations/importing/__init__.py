"""Reading a year's evaluation summary table (汇总表) into validated records.

``read_table(name, data)`` turns the bytes of a file (our YAML fixture, or the official layout
as .xlsx or .csv) into a :class:`~evaluations.importing.records.ParsedTable`; it never touches
the database. ``rectification.imports.import_evaluation_table`` then writes it
(the evaluation data, and the ledger items it brings).
"""

from evaluations.importing.records import (
    ImportIssue,
    ImportNote,
    ImportRejected,
    ParsedTable,
    ProjectRecord,
)
from evaluations.importing.table import read_table

__all__ = [
    "ImportIssue",
    "ImportNote",
    "ImportRejected",
    "ParsedTable",
    "ProjectRecord",
    "read_table",
]
