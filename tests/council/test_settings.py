"""Settings come from the environment and refuse bad values with a clear message."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from council.env import env_bool, env_choice, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]

# ---- the helpers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        (" on ", True),
        ("0", False),
        ("false", False),
        ("NO", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


def test_env_bool_default_when_unset(monkeypatch):
    monkeypatch.delenv("X_FLAG", raising=False)
    assert env_bool("X_FLAG", True) is True
    assert env_bool("X_FLAG", False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "yess", "enabled"])
def test_env_bool_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match=r"X_FLAG=.* is not a boolean"):
        env_bool("X_FLAG")


def test_env_int_reads_numbers_and_defaults(monkeypatch):
    monkeypatch.setenv("X_NUM", " 42 ")
    assert env_int("X_NUM", 7) == 42
    monkeypatch.setenv("X_NUM", "")
    assert env_int("X_NUM", 7) == 7
    monkeypatch.delenv("X_NUM")
    assert env_int("X_NUM", 7) == 7


@pytest.mark.parametrize("raw", ["abc", "4.5", "1e3", "twelve"])
def test_env_int_refuses_non_numbers(monkeypatch, raw):
    monkeypatch.setenv("X_NUM", raw)
    with pytest.raises(ImproperlyConfigured, match="X_NUM=.* is not a whole number"):
        env_int("X_NUM", 1)


def test_env_int_enforces_bounds(monkeypatch):
    monkeypatch.setenv("X_NUM", "5")
    with pytest.raises(ImproperlyConfigured, match="X_NUM=5 is below the minimum 10"):
        env_int("X_NUM", 20, minimum=10)
    monkeypatch.setenv("X_NUM", "70000")
    with pytest.raises(ImproperlyConfigured, match="above the maximum 65535"):
        env_int("X_NUM", 20, maximum=65535)
    monkeypatch.setenv("X_NUM", "10")
    assert env_int("X_NUM", 20, minimum=10, maximum=10) == 10


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("X_LIST", " a.example , ,b.example,")
    assert env_list("X_LIST") == ["a.example", "b.example"]
    monkeypatch.delenv("X_LIST")
    assert env_list("X_LIST", ["d"]) == ["d"]
    assert env_list("X_LIST") == []


def test_env_choice_accepts_only_listed_values(monkeypatch):
    monkeypatch.setenv("X_LANG", "nl")
    assert env_choice("X_LANG", "fr", {"fr", "nl"}) == "nl"
    monkeypatch.setenv("X_LANG", "es")
    with pytest.raises(
        ImproperlyConfigured, match="X_LANG='es' must be one of: fr, nl"
    ):
        env_choice("X_LANG", "fr", {"fr", "nl"})


def test_env_str_reads_secrets_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret-from-file\n", encoding="utf-8")
    monkeypatch.setenv("X_SECRET", "from-env")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_str("X_SECRET") == "s3cret-from-file"
    monkeypatch.delenv("X_SECRET_FILE")
    assert env_str("X_SECRET") == "from-env"


def test_env_str_refuses_an_unreadable_file(monkeypatch, tmp_path):
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="X_SECRET_FILE=.* cannot be read"):
        env_str("X_SECRET")


# ---- the settings module, loaded fresh in a child process ----------------------

_READ = """
import json
import council.settings as s
layer = s.CHANNEL_LAYERS["default"]
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ENGINE": s.DATABASES["default"]["ENGINE"],
    "DB_NAME": s.DATABASES["default"].get("NAME"),
    "LAYER": layer["BACKEND"],
    "LAYER_CONFIG": layer.get("CONFIG", {}),
    "CACHE": s.CACHES["default"]["BACKEND"],
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_PROXY_SSL_HEADER": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "PROVIDERS": sorted(s.SOCIALACCOUNT_PROVIDERS),
    "ALLOW_SIGNUP": s.ALLOW_SIGNUP,
    "CSP": {k: list(v) for k, v in s.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()},
}))
"""

# Variables the parent (a CI run, a developer's shell) may have set.
_SCRUBBED = {
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_PREFIX",
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_SECRET_KEY_FILE",
    "SITE_URL",
    "JITSI_DOMAIN",
    "ENTRA_CLIENT_ID",
    "ENTRA_CLIENT_SECRET",
    "OIDC_CLIENT_ID",
    "OIDC_SERVER_URL",
    "OIDC_CLIENT_SECRET",
    "ALLOW_SIGNUP",
    "LANGUAGE_CODE",
    "SECURE_HSTS_SECONDS",
    "BEHIND_HTTPS_PROXY",
    "EMAIL_HOST",
    "EMAIL_PORT",
}


def _child(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    base.pop("DJANGO_SETTINGS_MODULE", None)
    base.update({"DJANGO_SECRET_KEY": "test-secret"} | env)
    base = {k: v for k, v in base.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def read_settings(**env: str) -> dict:
    result = _child(_READ, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def settings_error(**env: str) -> str:
    result = _child("import council.settings", **env)
    assert result.returncode != 0, "the settings module accepted a bad value"
    assert "ImproperlyConfigured" in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL is not usable"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "must be a postgres:// (or sqlite://)"),
        ({"DATABASE_URL": "postgres://u@h:5432/"}, "DATABASE_URL names no database"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL='http://x' is not a redis:// URL"),
        (
            {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_POOL_SIZE": "many"},
            "REDIS_POOL_SIZE='many' is not a whole number",
        ),
        (
            {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_POOL_SIZE": "0"},
            "REDIS_POOL_SIZE=0 is below the minimum 1",
        ),
        ({"JITSI_DOMAIN": "bad/x"}, "JITSI_DOMAIN='bad/x' must be a host name"),
        ({"JITSI_DOMAIN": "https://meet.example"}, "must be a host name"),
        ({"SITE_URL": "ftp://council.example"}, "must start with http(s)://"),
        ({"LANGUAGE_CODE": "es"}, "LANGUAGE_CODE='es' must be one of"),
        ({"EMAIL_HOST": "smtp.x", "EMAIL_PORT": "70000"}, "above the maximum 65535"),
        ({"ALLOW_SIGNUP": "perhaps"}, "ALLOW_SIGNUP='perhaps' is not a boolean"),
        ({"REAUTHENTICATION_TIMEOUT": "5"}, "below the minimum 30"),
        ({"OIDC_CLIENT_ID": "abc"}, "OIDC_CLIENT_ID is set but OIDC_SERVER_URL"),
        ({"ENTRA_CLIENT_ID": "abc"}, "ENTRA_CLIENT_ID is set but ENTRA_CLIENT_SECRET"),
        ({"DJANGO_SECRET_KEY_FILE": "/nonexistent/key"}, "cannot be read"),
        (
            {"DJANGO_SECRET_KEY": None, "DJANGO_DEBUG": "0"},
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set",
        ),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, dict) else None,
)
def test_bad_settings_stop_start_up_with_a_clear_message(env, message):
    assert message in settings_error(**env)


def test_embedded_default_is_sqlite_memory_layer_and_debug_off():
    values = read_settings()
    assert values["DEBUG"] is False
    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert values["LAYER"] == "channels.layers.InMemoryChannelLayer"
    assert values["CACHE"].endswith("LocMemCache")
    assert values["ALLOW_SIGNUP"] is False
    assert values["PROVIDERS"] == []


def test_missing_secret_is_tolerated_only_in_debug():
    assert read_settings(DJANGO_SECRET_KEY=None, DJANGO_DEBUG="1")["DEBUG"] is True


def test_database_url_selects_postgresql():
    values = read_settings(DATABASE_URL="postgres://council:pw@db.internal:5432/cm")
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert values["DB_NAME"] == "cm"


def test_redis_url_selects_the_blocking_pool_layer_and_redis_cache():
    values = read_settings(
        REDIS_URL="redis://127.0.0.1:6379/3",
        REDIS_PREFIX="p1",
        REDIS_POOL_SIZE="150",
        REDIS_POOL_TIMEOUT="9",
    )
    assert values["LAYER"] == "council.channel_layer.BlockingPoolRedisChannelLayer"
    assert values["LAYER_CONFIG"]["hosts"] == [{"address": "redis://127.0.0.1:6379/3"}]
    assert values["LAYER_CONFIG"]["prefix"] == "p1"
    assert values["LAYER_CONFIG"]["pool_size"] == 150
    assert values["LAYER_CONFIG"]["pool_timeout"] == 9
    assert values["CACHE"] == "council.cache.FallbackRedisCache"


def test_https_site_turns_on_secure_cookies_and_hsts():
    plain = read_settings(SITE_URL="http://127.0.0.1:8000")
    assert plain["SESSION_COOKIE_SECURE"] is False
    assert plain["SECURE_HSTS_SECONDS"] == 0
    secure = read_settings(SITE_URL="https://conseil.example.be")
    assert secure["SESSION_COOKIE_SECURE"] is True
    assert secure["CSRF_COOKIE_SECURE"] is True
    assert secure["SECURE_HSTS_SECONDS"] >= 31536000
    assert secure["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert "ws:" not in secure["CSP"]["connect-src"]


def test_csp_frames_only_the_configured_jitsi_domain():
    values = read_settings(JITSI_DOMAIN="visio.commune.example")
    assert values["CSP"]["frame-src"] == ["https://visio.commune.example"]
    assert values["CSP"]["frame-ancestors"] == ["'none'"]


def test_social_providers_appear_only_when_configured():
    assert read_settings()["PROVIDERS"] == []
    entra = read_settings(ENTRA_CLIENT_ID="id", ENTRA_CLIENT_SECRET="s")
    assert entra["PROVIDERS"] == ["microsoft"]
    both = read_settings(
        ENTRA_CLIENT_ID="id",
        ENTRA_CLIENT_SECRET="s",
        OIDC_CLIENT_ID="oid",
        OIDC_SERVER_URL="https://login.example/.well-known/openid-configuration",
    )
    assert both["PROVIDERS"] == ["microsoft", "openid_connect"]


def test_debug_is_off_in_the_test_run():
    assert settings.DEBUG is False
