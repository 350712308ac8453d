"""Remove a user's second factor (authenticator and recovery codes), for a lost phone.

The user sets up a new authenticator at their next sign-in (when the requirement applies to
them). Run by an operator after checking who asks; the security log keeps a line.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from liwan.logs import security_event


class Command(BaseCommand):
    help = "删除某账号的双因素登录设置（身份验证器与恢复码），用于手机丢失；下次登录时重新设置。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="账号")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有账号「{username}」")
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
        security_event("otp_reset", level=logging.WARNING, account=username, removed=removed)
        self.stdout.write(f"已删除账号「{username}」的双因素登录设置；下次登录时需重新设置。")
