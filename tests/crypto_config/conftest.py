"""Fixtures of the crypto configuration tests: a router at the config prompt."""

from __future__ import annotations

import pytest
from crypto_helpers import config_session, new_router

from iosim.cli.session import Session
from iosim.router import Router


@pytest.fixture
def router() -> Router:
    return new_router()


@pytest.fixture
def session(router: Router) -> Session:
    return config_session(router)
