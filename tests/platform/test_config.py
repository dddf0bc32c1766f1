from pathlib import Path

import pytest

from server.config import load_config
from server.errors import ConfigError
from server.secret import Secret, mask_url


def test_defaults_and_environment(tmp_path: Path) -> None:
    cfg = load_config(env={"LIENTHONG_DATA_DIR": str(tmp_path), "LIENTHONG_PORT": "9001"})
    assert cfg.http.port == 9001
    assert cfg.http.host == "127.0.0.1"
    assert cfg.database.url.reveal() == f"sqlite+aiosqlite:///{tmp_path / 'lienthong.db'}"
    assert cfg.database.is_sqlite


def test_toml_then_env_precedence(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[http]\nport = 7000\nhost = "0.0.0.0"\n[auth]\nsession_hours = 4\n')
    cfg = load_config(
        path, env={"LIENTHONG_DATA_DIR": str(tmp_path), "LIENTHONG_HOST": "127.0.0.2"}
    )
    assert cfg.http.port == 7000
    assert cfg.http.host == "127.0.0.2"
    assert cfg.auth.session_hours == 4


@pytest.mark.parametrize(
    ("env", "toml", "key"),
    [
        ({"LIENTHONG_PORT": "eighty"}, "", "http.port"),
        ({"LIENTHONG_PORT": "70000"}, "", "http.port"),
        ({"LIENTHONG_DATABASE_URL": "mysql://x"}, "", "database.url"),
        ({"LIENTHONG_REALTIME": "carrier-pigeon"}, "", "realtime.backend"),
        ({"LIENTHONG_REALTIME": "postgres"}, "", "realtime.backend"),
        ({}, "[auth]\nmax_failed_logins = 0\n", "auth.max_failed_logins"),
        ({}, "http = 3\n", "http"),
        ({}, "[http\n", "--config"),
        ({"LIENTHONG_TLS_CERT": "/nonexistent/cert.pem"}, "", "http.tls_cert"),
        ({"LIENTHONG_TLS_CERT": "/etc/passwd"}, "", "http.tls_key"),  # a cert without its key
        ({}, '[http]\nmetrics_allow = ["everyone"]\n', "http.metrics_allow"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, env: dict[str, str], toml: str, key: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={"LIENTHONG_DATA_DIR": str(tmp_path), **env})
    assert info.value.key == key
    assert key in str(info.value)


def test_secrets_never_show() -> None:
    secret = Secret("postgresql+asyncpg://u:hunter2@db/x")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert "hunter2" not in mask_url(secret.reveal())
    cfg = load_config(env={"LIENTHONG_DATABASE_URL": "postgresql+asyncpg://u:hunter2@h/db"})
    assert "hunter2" not in repr(cfg)
