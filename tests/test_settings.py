"""The one settings object: embedded defaults, overridden by HOTLINE_ variables."""

from core.settings import Settings


def test_the_read_model_follows_the_data_folder_unless_set(monkeypatch, tmp_path):
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "center"))
    assert Settings().database_url == f"sqlite:///{tmp_path / 'center' / 'hotline.db'}"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql+psycopg://hotline@db/hotline")
    assert Settings().database_url == "postgresql+psycopg://hotline@db/hotline"


def test_hotline_token_lives_as_long_as_the_setting_says_unless_told(monkeypatch, capsys):
    import jwt

    from core.settings import get_settings
    from hotline.cli import main

    monkeypatch.setenv("HOTLINE_TOKEN_TTL_HOURS", "2")
    get_settings.cache_clear()
    try:
        lifetimes = []
        for argv in (["token", "--role", "center"], ["token", "--role", "center", "--hours", "5"]):
            assert main(argv) == 0
            claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
            lifetimes.append(claims["exp"] - claims["iat"])
        assert lifetimes == [2 * 3600, 5 * 3600]
    finally:
        get_settings.cache_clear()
