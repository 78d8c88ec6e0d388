import argparse
import json
import re

import pytest

from googlenet.cli import main
from googlenet.commands._train_flags import add_config_flags, config_from_args
from googlenet.errors import ConfigError
from googlenet.recipe import ModelRecipe, TransferRecipe
from googlenet.train.config import TrainConfig


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


def test_configs_without_a_recipe_field_are_refused(tmp_path):
    # Flat model fields (configs from before recipes) are not read: the README promises no
    # older files, and "model" is no config field.
    (tmp_path / "old.json").write_text('{"model": "googlenet_cifar", "width": 0.5, "lr": 0.2}')
    with pytest.raises(ConfigError, match=r"old\.json: unknown config field\(s\) model, width"):
        TrainConfig.load(tmp_path / "old.json")


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
                         "--unfreeze", "inception_4d, inception_4e", "--head", "binary",
                         "--unfreeze-epochs", "1"])
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




@pytest.mark.parametrize("field, value, message", [
    ("epochs", "two", "epochs must be an int, got 'two'"),
    ("epochs", 2.0, "epochs must be an int, got 2.0"),
    ("epochs", True, "epochs must be an int, got True"),
    ("lr", "0.1", "lr must be a float, got '0.1'"),
    ("lr", float("nan"), "lr must be a finite number"),
    ("train_limit", [1], r"train_limit must be an int or null, got \[1\]"),
    ("hflip", 1, "hflip must be a bool, got 1"),
    ("data", 3, "data must be a str or null, got 3"),
])
def test_every_field_has_its_json_type(field, value, message):
    with pytest.raises(ConfigError, match=message) as info:
        TrainConfig(**{field: value})
    assert info.value.field == field


def test_a_config_file_with_a_wrong_type_names_the_file_and_the_field(tmp_path):
    (tmp_path / "config.json").write_text('{"epochs": "two", "lr": 1}')
    with pytest.raises(ConfigError, match=r"config\.json: epochs must be an int, got 'two'"):
        TrainConfig.load(tmp_path / "config.json")
    (tmp_path / "config.json").write_text('{"lr": 1, "shift": 0}')  # ints are floats too
    assert TrainConfig.load(tmp_path / "config.json").lr == 1


@pytest.mark.parametrize("changes", [
    {"aux_weight": -1}, {"val_split": 1}, {"unfreeze_epochs": -1}, {"zoom": 1},
    {"train_limit": 0}, {"eval_limit": -5}, {"batch_size": 0}, {"eval_batch_size": 0},
    {"lr": 0}, {"momentum": 1}, {"momentum": -1}, {"weight_decay": -1e-4},
    {"step_epochs": 0}, {"step_gamma": 0}, {"step_gamma": 1.5}, {"warmup_epochs": -1},
    {"min_lr_ratio": 2}, {"grad_clip": -1}, {"label_smoothing": 1}, {"mixup": -1},
    {"cutmix": -0.5}, {"ema_decay": 1}, {"shift": 1}, {"shift": -0.1},
    {"crop_scale_min": 0}, {"rotation": -10}, {"threads": 0}, {"workers": -1},
    {"seed": -1}, {"device": "bogus"}, {"device": "cuda:x"}, {"device": "gpu"},
])
def test_values_no_run_could_use_are_refused_by_name(changes):
    (field, value), = changes.items()
    with pytest.raises(ConfigError, match=f"^{field} must be ") as info:
        TrainConfig(**changes)
    assert info.value.field == field and repr(value) in str(info.value)


@pytest.mark.parametrize("changes", [
    {"train_limit": 1}, {"momentum": 0.0}, {"val_split": 0.0},
    {"shift": 0.99}, {"threads": 1}, {"workers": 0}, {"device": "cpu"}, {"device": "cuda"},
    {"device": "cuda:1"}, {"device": "auto"}, {"step_gamma": 1.0}, {"min_lr_ratio": 1},
])
def test_the_edges_of_each_range_are_accepted(changes):
    TrainConfig(**changes)  # "cuda" is only resolved, and refused, where a run starts


def test_a_bad_flag_is_named_as_a_flag():
    p = argparse.ArgumentParser()
    add_config_flags(p)
    with pytest.raises(ConfigError, match=r"^--train-limit must be >= 1, got -5$"):
        config_from_args(p.parse_args(["--train-limit", "-5"]))


@pytest.mark.parametrize("flags, message", [
    (["--width", "0"], "^--width must be > 0, got 0"),
    (["--width", "-1"], "^--width must be > 0, got -1"),
    (["--dropout", "1.5"], r"^--dropout must be >= 0 and < 1, got 1.5"),
    (["--cut", "inception_4e", "--input-size", "0"],
     "^--input-size must be >= 1 and <= 2048, got 0"),
    (["--cut", "inception_4e", "--input-size", "100000"],
     "^--input-size must be >= 1 and <= 2048, got 100000"),
])
def test_recipe_flags_out_of_range_are_refused(flags, message):
    p = argparse.ArgumentParser()
    add_config_flags(p)
    with pytest.raises(ConfigError, match=message):
        config_from_args(p.parse_args(flags))


def test_fill_modes_are_the_ones_the_training_warp_implements():
    from googlenet.data.augment import FILL_MODES as WARP_FILLS

    for mode in WARP_FILLS:
        assert TrainConfig(fill_mode=mode).fill_mode == mode
    with pytest.raises(ConfigError, match="fill_mode must be one of"):
        TrainConfig(fill_mode="wrap")  # accepted here once, then refused at the run's start


@pytest.mark.parametrize("command", ["train", "finetune"])
def test_help_says_each_default_once(capsys, command):
    """A help text that names its own default (``--data``: search) gets no second
    "(default: None)" appended."""
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help text
    assert "(default: search)" in text
    assert not re.search(r"\(default: [^)]*\) \(default:", text), text
