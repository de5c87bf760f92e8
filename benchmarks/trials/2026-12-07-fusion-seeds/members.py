"""RJCMA retrained with another seed on the shipped heads: what `emoannot train ../shared/data --format offline
--seed K` would give for RJCMA alone if the heads stayed the seed-0 ones (the five-seed visual head of the
weights folder, audio and text heads retrained with seed 0, equal to the shipped ones to 1e-6). Only the
fusion's seed and its composites' seeds change (validation sequences seed K + 1, training sequences
K + 100 + epoch, FusionTrainConfig(seed=K)).

    python members.py K WEIGHTS RUN_CACHE OUT      # e.g. 1 weights /tmp/run/cache /tmp/w_fseed1 (about 20 min)

RUN_CACHE: the --run-dir/cache of a `train --format offline` run (face blendshapes, speech and text features).
"""
import shutil
import sys
from pathlib import Path

import emoannot.train.offline as off
from emoannot.model.fusions import Fusion
from emoannot.model.heads import head_from_state
from emoannot.model.weights import load_state, weights_info

seed, weights, cache, out = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
run = out.with_name(out.name + "-run")
shutil.rmtree(out, ignore_errors=True)
shutil.rmtree(run, ignore_errors=True)
shutil.copytree(weights, out)
run.mkdir()
shutil.copytree(cache, run / "cache")
shipped = head_from_state(load_state(out, "visual_head")[0])
card = weights_info(out, "visual_head").card["metrics"]
off.train_visual_head = lambda *a, **k: (shipped, card)
audio, text = off.train_audio_head, off.train_text_head
off.train_audio_head = lambda sf, held, s: audio(sf, held, 0)
off.train_text_head = lambda tf, s: text(tf, 0)
off.train_offline(Path(__file__).resolve().parents[3].parent / "shared" / "data", out, run, seed=seed,
                  fusions=(Fusion.rjcma,))
