"""The operator's provider list (settings, JSON or TOML file), the model catalog and its prices."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gql_api.errors import InvalidInput
from gql_api.providers.catalog import ModelCatalog, configured_providers
from gql_api.providers.config import ProviderConfig, load_provider_file
from gql_api.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def settings(tmp_path: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {"env": "test", "data_dir": tmp_path, "anthropic_api_key": None}
    base.update(values)
    return Settings(**base)


def catalog(tmp_path: Path, **values: Any) -> ModelCatalog:
    s = settings(tmp_path, **values)
    return ModelCatalog(configured_providers(s), s)


def test_zero_config_is_the_demo_model(tmp_path: Path) -> None:
    models = catalog(tmp_path)
    assert list(models.models) == ["demo"] and models.default_model == "demo"
    demo = models.models["demo"]
    assert (demo.provider, demo.input_price, demo.output_price) == ("demo", 0, 0)


def test_anthropic_key_alone_gives_the_anthropic_models_priced_from_the_table(
    tmp_path: Path,
) -> None:
    models = catalog(tmp_path, anthropic_api_key="sk-ant-x", anthropic_models=["claude-sonnet-4-5"])
    info = models.models["claude-sonnet-4-5"]
    assert models.default_model == "claude-sonnet-4-5"
    assert (info.provider, info.display_name, info.context_window) == (
        "anthropic",
        "Claude Sonnet 4.5",
        200_000,
    )
    assert (info.input_price, info.output_price) == (Decimal(3), Decimal(15))
    assert (info.cache_read_price, info.cache_write_price) == (Decimal("0.3"), Decimal("3.75"))
    assert info.vision and info.prompt_caching and info.tools


def test_the_operators_own_figures_win_over_the_table(tmp_path: Path) -> None:
    provider = {
        "name": "openai",
        "kind": "openai-compatible",
        "base_url": "https://api.openai.com/v1",
        "api_key_env": "CHATGQL_TEST_UNSET",
        "models": ["gpt-4o-mini", {"id": "gpt-4o", "input_price": "1.5", "context_window": 1000}],
    }
    models = catalog(tmp_path, providers=[provider])
    listed = models.models["gpt-4o-mini"]
    assert listed.input_price == Decimal("0.15") and listed.context_window == 128_000
    own = models.models["gpt-4o"]
    assert (own.input_price, own.output_price, own.context_window) == (Decimal("1.5"), 10, 1000)


def test_readme_toml_example_loads(tmp_path: Path) -> None:
    """The README's provider file is a working one."""
    example = re.search(r"```toml\n(.*?)```", README.read_text(), re.S)
    assert example is not None
    path = tmp_path / "providers.toml"
    path.write_text(example.group(1))
    providers = load_provider_file(path)
    assert [p.name for p in providers] == ["anthropic", "openrouter", "ollama", "vllm"]
    models = catalog(tmp_path, providers_file=path)
    assert models.models["qwen-coder"].upstream_id == "Qwen/Qwen2.5-Coder-32B-Instruct"
    assert models.models["llama3.2"].input_price == 0
    assert models.models["openai/gpt-4o"].input_price == Decimal("2.5")  # openrouter.ai's table
    assert models.default_model == "claude-sonnet-4-6"


def test_json_file_and_settings_list_together(tmp_path: Path) -> None:
    path = tmp_path / "providers.json"
    path.write_text(json.dumps([{"name": "extra", "kind": "demo", "models": ["demo-2"]}]))
    models = catalog(tmp_path, providers=[{"name": "demo", "kind": "demo"}], providers_file=path)
    assert list(models.models) == ["demo", "demo-2"]


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        ([{"name": "x", "kind": "openai-compatible", "models": ["m"]}], "needs base_url"),
        ([{"name": "x", "kind": "anthropic"}], "list the models"),
        ([{"name": "Bad Name", "kind": "demo"}], "pattern"),
        ([{"name": "x", "kind": "mystery", "models": ["m"]}], "kind"),
        ([{"name": "x", "kind": "demo", "models": ["m"], "surprise": 1}], "surprise"),
    ],
)
def test_a_malformed_provider_list_is_refused(
    tmp_path: Path, providers: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(tmp_path, providers=providers)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {
                "providers": [
                    {"name": "a", "kind": "demo", "models": ["m"]},
                    {"name": "b", "kind": "demo", "models": ["m"]},
                ]
            },
            "offered by two providers",
        ),
        ({"providers": [{"name": "a", "kind": "demo"}], "default_model": "gone"}, "not offered"),
    ],
)
def test_an_inconsistent_catalog_is_refused_at_startup(
    tmp_path: Path, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        catalog(tmp_path, **values)


def test_check_names_what_is_available(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATGQL_TEST_UNSET", raising=False)
    keyed = ProviderConfig(
        name="keyed",
        kind="openai-compatible",
        base_url="http://127.0.0.1:9/v1",
        api_key_env="CHATGQL_TEST_UNSET",
        models=["keyed-model"],
    )
    models = catalog(tmp_path, providers=[{"name": "demo", "kind": "demo"}, keyed])
    assert models.check("demo") == "demo"
    with pytest.raises(InvalidInput, match="needs a key of your own; available: demo$"):
        models.check("keyed-model")
    assert models.check("keyed-model", {"keyed"}) == "keyed-model"
    with pytest.raises(InvalidInput, match="is not offered; available: demo, keyed-model"):
        models.check("nope", {"keyed"})
