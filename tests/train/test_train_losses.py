import torch
import torch.nn.functional as F

from googlenet.models import create_model
from googlenet.models.inception_net import InceptionOutputs
from googlenet.train import inception_loss


def test_aux_weighting_is_main_plus_weight_times_sum_of_aux():
    torch.manual_seed(0)
    logits, a1, a2 = (torch.randn(8, 5) for _ in range(3))
    y = torch.randint(0, 5, (8,))
    parts = inception_loss(InceptionOutputs(logits, {"aux_4a": a1, "aux_4d": a2}), y)
    ce = F.cross_entropy
    expected = ce(logits, y) + 0.3 * (ce(a1, y) + ce(a2, y))
    assert torch.allclose(parts.total, expected, atol=1e-6)
    assert torch.allclose(parts.main, ce(logits, y))
    custom = inception_loss(InceptionOutputs(logits, {"a": a1}), y, aux_weight=0.5)
    assert torch.allclose(custom.total, ce(logits, y) + 0.5 * ce(a1, y), atol=1e-6)


def test_aux_heads_of_a_real_model_enter_the_loss_only_in_training():
    torch.manual_seed(0)
    model = create_model("googlenet_bn", num_classes=4, width=0.125).train()
    x, y = torch.randn(2, 3, 64, 64), torch.randint(0, 4, (2,))
    out = model.forward_train(x)
    assert set(out.aux) == {"aux_4a", "aux_4d"}
    parts = inception_loss(out, y, aux_weight=0.3)
    aux_sum = sum(F.cross_entropy(v, y) for v in out.aux.values())
    assert torch.allclose(parts.total, F.cross_entropy(out.logits, y) + 0.3 * aux_sum,
                          atol=1e-6)
    assert torch.is_tensor(model(x))  # plain forward: logits only


def test_soft_targets_and_label_smoothing():
    logits = torch.randn(6, 4)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    smoothed = inception_loss(logits, y, label_smoothing=0.1).total
    soft = torch.full((6, 4), 0.1 / 4) + 0.9 * F.one_hot(y, 4)
    assert torch.allclose(smoothed, inception_loss(logits, soft).total, atol=1e-6)
