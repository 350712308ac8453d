"""The zh-hans catalog: complete, compiled, in step with the code, and actually used.

The interface is written with English msgids and shown in Chinese by default; English is one
language switch away. These tests keep the committed ``locale/zh_Hans`` catalog honest.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from rectification.choices import ItemStatus
from rectification.services import StaleItemError
from tests import factories
from tests.services import require

ROOT = Path(__file__).resolve().parent.parent
CATALOG_DIR = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = CATALOG_DIR / "django.po"
MO = CATALOG_DIR / "django.mo"
# What `makemessages` skips, as in the command that maintains the catalog:
# manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=staticfiles --ignore=var
# (translate every new msgstr), then manage.py compilemessages --ignore=.venv
IGNORED = (".venv", "tests", "staticfiles", "var")
_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstrs: dict[str, str] = field(default_factory=dict)  # "msgstr" or "msgstr[n]" → text
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


def _unquote(token: str) -> str:
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), token[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """The live entries of a .po file (obsolete ``#~`` entries are left out), header first."""
    entries: list[Entry] = []
    entry: Entry | None = None
    keyword: str | None = None

    def finish() -> None:
        nonlocal entry, keyword
        if entry is not None and (entry.msgid or entry.msgstrs):
            entries.append(entry)
        entry, keyword = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is not None and keyword is not None:
                finish()  # a comment after a msgstr starts the next entry
            entry = entry or Entry(line=number)
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line)
        if match:
            word, token = match.groups()
            starts_entry = word in {"msgctxt", "msgid"}
            if starts_entry and entry is not None and (keyword or "").startswith("msgstr"):
                finish()
            entry = entry or Entry(line=number)
            keyword = word
        elif line.startswith('"') and keyword is not None and entry is not None:
            token = line
        else:
            raise AssertionError(f"{path.name}:{number}: cannot parse {raw!r}")
        text = _unquote(token)
        assert entry is not None and keyword is not None
        if keyword == "msgid":
            entry.msgid += text
        elif keyword == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + text
        elif keyword == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + text
        else:
            entry.msgstrs[keyword] = entry.msgstrs.get(keyword, "") + text
    finish()
    return entries


def _messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.msgid]


def _where(entry: Entry) -> str:
    return f"line {entry.line}: {entry.msgid!r}"


# --- (1) the catalog is complete -------------------------------------------------------------


def test_the_catalog_exists_and_has_a_usable_header():
    entries = parse_po(PO)
    header = entries[0]
    assert header.msgid == "", "the header must come first"
    assert "fuzzy" not in header.flags, "the header is still marked fuzzy"
    text = header.msgstrs["msgstr"]
    assert "charset=UTF-8" in text
    assert "Language: zh_Hans" in text
    assert "Plural-Forms: nplurals=1; plural=0;" in text
    assert len(_messages(entries)) > 200


def test_every_message_is_translated_and_none_is_fuzzy():
    messages = _messages(parse_po(PO))
    fuzzy = [_where(e) for e in messages if "fuzzy" in e.flags]
    untranslated = [_where(e) for e in messages if not e.msgstrs or not all(e.msgstrs.values())]
    assert not fuzzy, "fuzzy entries:\n" + "\n".join(fuzzy)
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


def test_translations_keep_the_placeholders_of_their_msgid():
    wrong = []
    for entry in _messages(parse_po(PO)):
        expected = sorted(_PLACEHOLDER.findall(entry.msgid))
        for keyword, text in entry.msgstrs.items():
            if sorted(_PLACEHOLDER.findall(text)) != expected:
                wrong.append(f"{_where(entry)} {keyword} {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_each_msgid_appears_once():
    keys = [e.key for e in _messages(parse_po(PO))]
    assert len(keys) == len(set(keys))


# --- (2) the committed .mo is the compiled .po -----------------------------------------------


def test_the_committed_mo_is_compiled_from_the_po(tmp_path):
    msgfmt = shutil.which("msgfmt")
    require(bool(msgfmt), "needs GNU gettext's msgfmt (apt-get install gettext)")
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(fresh), str(PO)], check=True)
    with MO.open("rb") as committed_file, fresh.open("rb") as fresh_file:
        committed = gettext.GNUTranslations(committed_file)
        expected = gettext.GNUTranslations(fresh_file)
    # The parsed catalogs (msgid → msgstr, with contexts and plural forms), not the bytes.
    assert committed._catalog == expected._catalog, (
        "django.mo is out of date: run `manage.py compilemessages --ignore=.venv`"
    )


# --- (3) the catalog covers every msgid in the code ------------------------------------------


def test_makemessages_finds_no_msgid_missing_from_the_catalog(tmp_path):
    tools = ("xgettext", "msgmerge", "msguniq")
    missing_tools = [tool for tool in tools if not shutil.which(tool)]
    require(not missing_tools, f"needs GNU gettext ({', '.join(missing_tools)} not found)")
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            *IGNORED, ".git", "__pycache__", ".ruff_cache", ".pytest_cache", "node_modules"
        ),
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "liwan.settings",
        "PYTHONPATH": str(copy),
        "LIWAN_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_DEBUG": "true",
    }
    env.pop("DATABASE_URL", None)  # makemessages needs no database
    command = [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans"]
    command += [f"--ignore={name}" for name in IGNORED]
    done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"makemessages failed:\n{done.stdout}\n{done.stderr}"
    committed = {e.key for e in _messages(parse_po(PO))}
    extracted = _messages(parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    new = sorted(f"{e.msgctxt or ''}|{e.msgid}" for e in extracted if e.key not in committed)
    assert not new, (
        "msgids in the code but not in the catalog — run makemessages, translate, "
        "compilemessages:\n" + "\n".join(new)
    )


# --- (4) the catalog is used -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _restore_the_default_language():
    # A request through LocaleMiddleware leaves its language active in this thread; put the
    # default back so later tests (which expect Chinese messages) are not run in English.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def member_client(client, db):
    client.force_login(factories.UnitStaffFactory())
    return client


def _ledger(client, language: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("rectification:ledger"))
    assert response.status_code == 200
    return response.content.decode()


def _heading(page: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert match, "the ledger page has no heading"
    return match.group(1)


def test_the_ledger_page_is_chinese_by_default_and_english_on_request(member_client):
    chinese = _ledger(member_client, "zh-hans")
    assert _heading(chinese).startswith("整改台账")
    assert '<html lang="zh-hans">' in chinese
    for text in ("待整改", "整改中", "待销号", "已销号", "逾期", "导出当前列表（Excel）"):
        assert text in chinese
    assert "Rectification ledger" not in chinese

    english = _ledger(member_client, "en")
    assert '<html lang="en">' in english
    assert _heading(english).startswith("Rectification ledger")
    for text in ("Open", "In progress", "Awaiting closure", "Closed", "Export what I see"):
        assert text in english
    assert "整改台账" not in _heading(english)
    assert "待销号" not in english


@pytest.mark.parametrize(
    ("language", "label", "stale"),
    [
        ("zh-hans", "待整改", "该整改事项已被他人修改，您的提交未保存。"),
        ("en", "Open", "This item has been changed by someone else"),
    ],
)
def test_labels_and_messages_follow_the_active_language(language, label, stale):
    with translation.override(language):
        assert str(ItemStatus.OPEN.label) == label
        assert StaleItemError().messages[0].startswith(stale)


def test_role_values_stay_the_chinese_group_names_whatever_the_language():
    with translation.override("en"):
        assert Role.values == ["评价管理员", "经办人", "负责人", "监督查看"]
        assert str(Role.UNIT_STAFF.label) == "Unit staff"
    with translation.override("zh-hans"):
        assert str(Role.UNIT_STAFF.label) == "单位经办人"
