"""A head ensemble (the face-only head: several seeds read as one) reads as the average of its members and
survives the round trip through the weights file that the product loads."""
import numpy as np
import torch

from emoannot.model.heads import HeadEnsemble, VAHead, head_from_state
from emoannot.model.weights import load_state, write_weights

CARD = {"trained": True, "metrics": {"made_for": "this test"}, "licences": {"test": "none"}}


def _member(seed: int) -> VAHead:
    torch.manual_seed(seed)
    head = VAHead(12, 7, hidden=8)
    head.mean.normal_()
    head.std.uniform_(0.5, 2.0)
    head.cal_matrix.copy_(torch.tensor([[0.9, 0.1], [0.0, 1.1]]) * (1 + seed / 10))
    head.cal_offset.fill_(0.05 * seed)
    return head.eval()


def test_an_ensemble_reads_as_its_members_average_and_loads_back_as_one(tmp_path):
    members = [_member(s) for s in range(3)]
    ens = HeadEnsemble(members).eval()
    x = np.random.default_rng(0).normal(size=(40, 12)).astype(np.float32)
    va = np.mean([m.predict_va(x) for m in members], 0)
    proba = np.mean([m.predict_proba(x) for m in members], 0)
    np.testing.assert_allclose(ens.predict_va(x), va, atol=1e-6)
    np.testing.assert_allclose(ens.predict_proba(x), proba, atol=1e-6)
    assert (ens.in_dim, ens.n_classes) == (12, 7)
    # the members differ, so the average is not any one of them
    assert min(np.abs(m.predict_va(x) - va).max() for m in members) > 1e-3

    write_weights(tmp_path, "visual_head", ens.state_dict(), CARD)
    back = head_from_state(load_state(tmp_path, "visual_head")[0])
    assert isinstance(back, HeadEnsemble) and len(back.members) == 3
    np.testing.assert_allclose(back.predict_va(x), va, atol=1e-6)
    np.testing.assert_allclose(back.predict_proba(x), proba, atol=1e-6)
    # a single head's file still loads as a single head
    write_weights(tmp_path, "one", members[0].state_dict(), CARD)
    one = head_from_state(load_state(tmp_path, "one")[0])
    assert isinstance(one, VAHead)
    np.testing.assert_allclose(one.predict_va(x), members[0].predict_va(x), atol=1e-6)
