"""Settings from PLANENET_* variables and from the flags of `planenet serve`, flags first."""

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.cli import build_parser, main, settings_from
from service.domain.heartbeats import (
    HEARTBEAT_SECONDS,
    MIN_HEARTBEAT_TIMEOUT_SECONDS,
    MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS,
    STORE_LOCK_WAIT_SECONDS,
)
from service.settings import Settings


def serve_flags(*argv: str) -> dict[str, object]:
    arguments = vars(build_parser().parse_args(["serve", *argv]))
    arguments.pop("command")
    return arguments


def test_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLANENET_WORKERS", raising=False)
    settings = Settings()
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8000, Path("data"))
    assert settings.resolved_database_url == "sqlite:///data/planenet.db"
    assert settings.workers >= 1
    assert settings.api_key_value is None
    assert not settings.protect_reads
    assert settings.cors_origins == []
    assert (settings.max_epochs, settings.max_training_points) == (100_000, 100_000)
    assert settings.job_heartbeat_timeout == 60.0
    assert settings.http_workers == 1


def test_http_workers_come_from_the_environment_or_the_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLANENET_HTTP_WORKERS", "3")
    assert Settings().http_workers == 3
    assert settings_from(serve_flags("--http-workers", "2")).http_workers == 2
    for refused in ("0", "65", "two"):
        assert main(["serve", "--http-workers", refused]) == 2
        assert "http_workers" in capsys.readouterr().err


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANENET_PORT", "9100")
    monkeypatch.setenv("PLANENET_API_KEY", "sesame")
    monkeypatch.setenv("PLANENET_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("PLANENET_MAX_EPOCHS", "50")
    monkeypatch.setenv("PLANENET_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("PLANENET_JOB_HEARTBEAT_TIMEOUT", "72.5")
    settings = Settings()
    assert settings.job_heartbeat_timeout == 72.5
    assert settings.port == 9100
    assert settings.api_key_value == "sesame"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.max_epochs == 50
    assert settings.log_level == "debug"
    assert "sesame" not in repr(settings)


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLANENET_PORT", "9100")
    monkeypatch.setenv("PLANENET_WORKERS", "3")
    settings = settings_from(
        serve_flags(
            "--port", "9200", "--data-dir", str(tmp_path), "--protect-reads", "--api-key", "k",
            "--cors-origins", "https://c.example", "--max-units", "16",
        )
    )  # fmt: skip
    assert (settings.port, settings.workers, settings.max_units) == (9200, 3, 16)
    assert settings.protect_reads
    assert settings.cors_origins == ["https://c.example"]
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'planenet.db'}"


def test_every_setting_has_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    help_text = capsys.readouterr().out
    for name in Settings.model_fields:
        assert "--" + name.replace("_", "-") in help_text
        assert "PLANENET_" + name.upper() in help_text


def test_python_dash_m_service_is_the_same_command() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "service", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--max-epochs" in completed.stdout
    assert "PLANENET_DATA_DIR" in completed.stdout


def test_invalid_settings_stop_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--workers", "-1", "--job-heartbeat-timeout", "0"]) == 2
    error = capsys.readouterr().err
    assert "port" in error
    assert "workers" in error
    assert "job_heartbeat_timeout" in error


def test_the_heartbeat_timeout_covers_several_beats_and_a_wait_for_the_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert MIN_HEARTBEAT_TIMEOUT_SECONDS >= 2 * HEARTBEAT_SECONDS + STORE_LOCK_WAIT_SECONDS
    assert Settings().job_heartbeat_timeout >= MIN_HEARTBEAT_TIMEOUT_SECONDS
    assert Settings(job_heartbeat_timeout=MIN_HEARTBEAT_TIMEOUT_SECONDS).job_heartbeat_timeout == (
        MIN_HEARTBEAT_TIMEOUT_SECONDS
    )
    for too_short in (MIN_HEARTBEAT_TIMEOUT_SECONDS - 0.5, 4, float("nan"), float("inf")):
        with pytest.raises(ValidationError, match="job_heartbeat_timeout"):
            Settings(job_heartbeat_timeout=too_short)
    # A timeout the workers' fixed beat cannot keep up with is refused, saying why.
    assert main(["serve", "--job-heartbeat-timeout", "4"]) == 2
    error = capsys.readouterr().err
    assert f"at least {MIN_HEARTBEAT_TIMEOUT_SECONDS:g} seconds" in error
    assert f"beat every {HEARTBEAT_SECONDS:g} s" in error
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"at least {MIN_HEARTBEAT_TIMEOUT_SECONDS:g}" in help_text


def test_on_postgresql_the_heartbeat_timeout_may_be_as_short_as_three_beats() -> None:
    """There a beat waits only for its own job's row, and the database stamps it."""
    postgres = "postgresql+psycopg://planenet@db/planenet"
    assert MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS == 3 * HEARTBEAT_SECONDS
    shortest = MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS
    short = Settings(database_url=postgres, job_heartbeat_timeout=shortest)
    assert short.job_heartbeat_timeout == shortest
    with pytest.raises(ValidationError, match=f"at least {shortest:g} seconds on PostgreSQL"):
        Settings(database_url=postgres, job_heartbeat_timeout=shortest - 0.5)
    with pytest.raises(ValidationError, match="on SQLite"):
        Settings(job_heartbeat_timeout=shortest)
