"""The one settings object: embedded defaults, overridden by HOTLINE_ variables."""

from core.settings import Settings


def test_the_read_model_follows_the_data_folder_unless_set(monkeypatch, tmp_path):
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "center"))
    assert Settings().database_url == f"sqlite:///{tmp_path / 'center' / 'hotline.db'}"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql+psycopg://hotline@db/hotline")
    assert Settings().database_url == "postgresql+psycopg://hotline@db/hotline"
