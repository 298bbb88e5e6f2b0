"""Password policy: 12 to 128 characters, not one of the most common passwords, not the email.

The common-password list is the 30,000-entry list that ships with zxcvbn (Dropbox's password
strength estimator). A password counts as common when it is on the list once case and
trailing digits or punctuation are ignored ("Password2024!" is "password").
"""

from __future__ import annotations

import re
from functools import lru_cache

from server.domain.errors import InvalidArgument

MIN_LENGTH = 12
MAX_LENGTH = 128
_TRAILING = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    lowered = password.lower()
    common = common_passwords()
    if lowered in common:
        return True
    stem = _TRAILING.sub("", lowered)
    return bool(stem) and stem in common


def check_password(password: str, *, email: str | None = None) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidArgument(f"the password must have at least {MIN_LENGTH} characters",
                              reason="PASSWORD_TOO_SHORT")
    if len(password) > MAX_LENGTH:
        raise InvalidArgument(f"the password must have at most {MAX_LENGTH} characters",
                              reason="PASSWORD_TOO_LONG")
    if is_common(password):
        raise InvalidArgument("this password is too common", reason="PASSWORD_TOO_COMMON")
    if email:
        local = email.split("@", 1)[0].lower()
        if len(local) >= 4 and local in password.lower():
            raise InvalidArgument("the password must not contain the email address",
                                  reason="PASSWORD_CONTAINS_EMAIL")
