import argparse
import json

import pytest

from googlenet.train.config import (
    ConfigError,
    TrainConfig,
    add_config_flags,
    config_from_args,
)


def test_json_round_trip(tmp_path):
    cfg = TrainConfig(model="googlenet_cifar", width=0.5, lr=0.3, hflip=True, data=None)
    cfg.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == cfg
    assert json.loads((tmp_path / "c.json").read_text())["width"] == 0.5


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
    base = TrainConfig(lr=0.5, width=0.25)
    cfg = config_from_args(args, base)
    assert (cfg.batch_size, cfg.hflip, cfg.ema_decay, cfg.aux_logits) == (64, True, 0.99, False)
    assert cfg.lr == 0.5  # not given: kept from the base config
    assert cfg.width is None
