"""Policy packs on disk: one TOML file per city in catalog/policies/, validated when loaded."""

import hashlib
import tomllib
from pathlib import Path

from pydantic import ValidationError

from domain.policy import PolicyPack

POLICIES_DIR = Path(__file__).parent / "policies"


def available_packs(directory: Path = POLICIES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml"))


def load_pack(name: str, directory: Path = POLICIES_DIR) -> PolicyPack:
    path = directory / f"{name}.toml"
    if not path.is_file():
        raise ValueError(f"unknown policy pack {name!r}; available: {', '.join(available_packs(directory))}")
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"policy pack {path.name}: {e}") from e
    data["digest"] = hashlib.sha256(raw).hexdigest()[:12]
    try:
        pack = PolicyPack.model_validate(data)
    except ValidationError as e:
        raise ValueError(f"policy pack {path.name} is invalid:\n{e}") from e
    if pack.name != name:
        raise ValueError(f"policy pack {path.name} declares name {pack.name!r}; the file name must match")
    return pack
