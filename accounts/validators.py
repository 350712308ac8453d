"""Password rules beyond Django's own validators (the whole policy: SECURITY.md).

Django checks length, likeness to the user's name and e-mail, the 20,000 most common passwords
and all-digit passwords; these add the character-class rule that 等保 assessments check and an
upper bound on length, as OWASP ASVS 2.1.2 asks (at most 128 characters).
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from liwan.logs import security_event


def character_classes(password: str) -> set[str]:
    """Which of upper case, lower case, digits and other characters ``password`` uses.

    Chinese characters and symbols count as "other": a password of hanzi and digits has two
    classes, like one of letters and digits.
    """
    classes = set()
    for char in password:
        if char.isdigit():
            classes.add("digit")
        elif char.isupper():
            classes.add("upper")
        elif char.islower():
            classes.add("lower")
        elif not unicodedata.category(char).startswith("Z"):  # spaces add no class
            classes.add("other")
    return classes


class CharacterClassValidator:
    """At least ``min_classes`` of: upper-case letters, lower-case letters, digits, other."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_few_classes")

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must mix at least %(n)d kind of character: upper-case letters, "
            "lower-case letters, digits, other characters.",
            "Your password must mix at least %(n)d kinds of character: upper-case letters, "
            "lower-case letters, digits, other characters.",
            self.min_classes,
        ) % {"n": self.min_classes}


class MaximumLengthValidator:
    """At most ``max_length`` characters: long passphrases are welcome, megabytes are not.

    Also writes the security log line of a password change: Django calls ``password_changed``
    on the validators after every real change (by the user, a reset link or the back-office),
    and not when it merely re-hashes a password at sign-in — the one hook that fires exactly
    then.
    """

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(self.get_help_text(), code="password_too_long")

    def get_help_text(self) -> str:
        return _("Your password can have at most %(n)d characters.") % {"n": self.max_length}

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is not None:
            security_event("password_changed", level=logging.INFO, account=user.get_username())


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with a message that is translated.

    Django 5.2 reworded this message ("…at least %d characters") and its Chinese catalog has
    not caught up, so a too-short password was refused in English on the Chinese page. The
    message is ours (translated in locale/zh_Hans); the rule is Django's.
    """

    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short. It must contain at least %(n)d character.",
            "This password is too short. It must contain at least %(n)d characters.",
            self.min_length,
        ) % {"n": self.min_length}
