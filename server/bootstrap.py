"""Create the first super admin, idempotently."""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from server.domain.errors import InvalidArgument
from server.domain.models import Role
from server.domain.password_policy import check_password
from server.security.passwords import Argon2PasswordHasher
from server.settings import Settings
from server.storage.repositories import SqlUnitOfWork

log = logging.getLogger(__name__)

DEV_ADMIN_EMAIL = "admin@localhost.localdomain"


async def bootstrap_admin(settings: Settings, uow_factory: Callable[[], SqlUnitOfWork],
                          hasher: Argon2PasswordHasher) -> None:
    """BOOTSTRAP_ADMIN_EMAIL/PASSWORD create that super admin if the email is unknown.
    Without them, outside production, a super admin with a random password is created once
    when none exists, and the password is printed once."""
    email = settings.bootstrap_admin_email
    if email:
        if (settings.bootstrap_admin_password is None
                or not settings.bootstrap_admin_password.get_secret_value()):
            raise SystemExit("BOOTSTRAP_ADMIN_PASSWORD must be set with BOOTSTRAP_ADMIN_EMAIL")
        password = settings.bootstrap_admin_password.get_secret_value()
        try:
            check_password(password, email=email)
        except InvalidArgument as exc:
            raise SystemExit(f"BOOTSTRAP_ADMIN_PASSWORD is not acceptable: {exc.message}") from exc
        async with uow_factory() as uow:
            if await uow.users.get_by_email(email) is not None:
                return
        await _create(uow_factory, email, password, hasher)
        log.info("bootstrap super admin created", extra={"email": email})
        return
    if settings.is_production:
        return
    async with uow_factory() as uow:
        if await uow.users.exists_with_role(Role.SUPER_ADMIN):
            return
    password = secrets.token_urlsafe(18)
    if await _create(uow_factory, DEV_ADMIN_EMAIL, password, hasher):
        # Printed once, to the terminal only: it is never stored in clear anywhere.
        print(f"\n  Development super admin created: {DEV_ADMIN_EMAIL} / {password}\n"
              "  (shown once; set BOOTSTRAP_ADMIN_EMAIL/BOOTSTRAP_ADMIN_PASSWORD to choose)\n",
              file=sys.stderr, flush=True)


async def _create(uow_factory: Callable[[], SqlUnitOfWork], email: str, password: str,
                  hasher: Argon2PasswordHasher) -> bool:
    password_hash = await hasher.hash(password)
    try:
        async with uow_factory() as uow:
            await uow.users.create(email=email, full_name="Platform administrator",
                                   role=Role.SUPER_ADMIN, password_hash=password_hash)
    except IntegrityError:
        return False  # another replica created it first
    return True
