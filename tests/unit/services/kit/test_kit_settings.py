import pytest
from pydantic import ValidationError

from miniapp_services.kit.settings import get_settings

URL = "postgresql+asyncpg://u:p@127.0.0.1:5432/db"


@pytest.mark.parametrize(
    ("overrides", "field", "fix"),
    [
        ({"service": "nosuch"}, "service", "set MINIAPP_SERVICE to one of"),
        (
            {"service": "user", "database_url": "postgresql://u@h/db"},
            "database_url",
            "must start with postgresql+asyncpg://",
        ),
        ({"service": "user", "version": "V 2"}, "version", "should match pattern"),
        ({"service": "user", "dependencies": {"billing": "x:1"}}, "dependencies", "use names from"),
        ({"service": "user", "db_pool_size": 0}, "db_pool_size", "greater than or equal to 1"),
        ({"service": "user", "surprise": 1}, "surprise", "Extra inputs are not permitted"),
    ],
)
def test_bad_settings_name_the_field_and_fix(overrides: dict, field: str, fix: str) -> None:
    with pytest.raises(ValidationError) as err:
        get_settings(**{"database_url": URL, **overrides})
    text = str(err.value)
    assert field in text
    assert fix in text


def test_settings_come_from_the_environment_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIAPP_SERVICE", "inventory")
    monkeypatch.setenv("MINIAPP_DATABASE_URL", URL)
    monkeypatch.setenv("MINIAPP_DEPENDENCIES__PRODUCT", "product:9090")
    settings = get_settings()
    assert (settings.service, settings.dependencies) == ("inventory", {"product": "product:9090"})
    assert "p@" not in repr(settings)
