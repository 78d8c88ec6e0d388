import argparse
import json

import pytest

from googlenet.recipe import ModelRecipe, TransferRecipe
from googlenet.train.config import (
    ConfigError,
    TrainConfig,
    add_config_flags,
    config_from_args,
)


def test_json_round_trip(tmp_path):
    cfg = TrainConfig(recipe=ModelRecipe("googlenet_cifar", width=0.5), lr=0.3, hflip=True,
                      data=None)
    cfg.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == cfg
    assert json.loads((tmp_path / "c.json").read_text())["recipe"]["width"] == 0.5
    tr = cfg.replace(recipe=TransferRecipe(ModelRecipe("googlenet_bn", aux_logits=False),
                                           "inception_4e", hidden=64, unfreeze=("inception_4e",)),
                     unfreeze_epochs=1)
    tr.save(tmp_path / "t.json")
    assert TrainConfig.load(tmp_path / "t.json") == tr


def test_configs_written_before_recipes_still_load(tmp_path):
    (tmp_path / "old.json").write_text('{"model": "googlenet_cifar", "width": 0.5, "lr": 0.2}')
    cfg = TrainConfig.load(tmp_path / "old.json")
    assert cfg.recipe == ModelRecipe("googlenet_cifar", width=0.5) and cfg.lr == 0.2


def test_unknown_field_and_bad_values_are_one_line_errors(tmp_path):
    (tmp_path / "c.json").write_text('{"lr": 0.1, "bogus": 1}')
    with pytest.raises(ConfigError, match=r"c\.json: unknown config field\(s\) bogus"):
        TrainConfig.load(tmp_path / "c.json")
    with pytest.raises(ConfigError, match="optimizer must be one of"):
        TrainConfig(optimizer="lamb")
    with pytest.raises(ConfigError, match="epochs must be >= 1"):
        TrainConfig(epochs=0)


def test_cli_flags_map_to_fields_and_override_only_when_given():
    p = argparse.ArgumentParser()
    add_config_flags(p)
    args = p.parse_args(["--batch-size", "64", "--hflip", "--ema-decay", "0.99",
                         "--width", "none", "--aux-logits", "false"])
    base = TrainConfig(recipe=ModelRecipe("googlenet_mnist", width=0.25), lr=0.5)
    cfg = config_from_args(args, base)
    assert (cfg.batch_size, cfg.hflip, cfg.ema_decay) == (64, True, 0.99)
    assert cfg.recipe.aux_logits is False  # type: ignore[union-attr]
    assert cfg.lr == 0.5  # not given: kept from the base config
    assert cfg.recipe == ModelRecipe("googlenet_mnist", aux_logits=False)


def test_cut_flags_make_a_transfer_recipe_and_head_flags_need_a_cut():
    p = argparse.ArgumentParser()
    add_config_flags(p)
    args = p.parse_args(["--model", "googlenet_bn", "--cut", "inception_4e", "--hidden", "32",
                         "--unfreeze", "inception_4d, inception_4e", "--head", "binary"])
    cfg = config_from_args(args)
    assert cfg.recipe == TransferRecipe(ModelRecipe("googlenet_bn", aux_logits=False),
                                        "inception_4e", head="binary", hidden=32,
                                        unfreeze=("inception_4d", "inception_4e"))
    assert cfg.model == "googlenet_bn" and cfg.run_name.startswith("googlenet_bn-inception_4e")
    with pytest.raises(ConfigError, match="--hidden describes a fine-tuning head; give --cut"):
        config_from_args(p.parse_args(["--hidden", "32"]))
    with pytest.raises(ConfigError, match="unfreeze_epochs needs a transfer recipe"):
        config_from_args(p.parse_args(["--unfreeze-epochs", "2"]))


@pytest.mark.parametrize("name", ["../x", "a/b", "/abs", ".", ".."])
def test_run_name_cannot_escape_the_output_folder(name):
    with pytest.raises(ConfigError, match="must be a plain folder name"):
        TrainConfig(name=name)
