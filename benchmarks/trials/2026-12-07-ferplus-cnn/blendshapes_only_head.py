"""Would a visual head on the blendshapes alone (no CNN embedding) read real faces better? Face column only."""
import json, numpy as np, torch
from pathlib import Path
import emoannot
from emoannot.model.weights import load_state, shipped_dir
from emoannot.model.expression import ExpressionCNN
from emoannot.features.blendshapes import landmarker_path
from emoannot.records import BLENDSHAPE_COLUMNS
from emoannot.train.face_inputs import face_inputs
from emoannot.train.fit_heads import train_visual_head
from emoannot.labels import CIRCUMPLEX
torch.set_num_threads(1)
data = Path('/work/shared/data')
st, _ = load_state(shipped_dir(), 'expression_cnn'); cnn = ExpressionCNN(); cnn.load_state_dict(st)
f = face_inputs(data, cnn, Path('/work/exp/offline_run/cache'), landmarker_path(shipped_dir()), lambda s: None)
B = slice(256, None)
head, m = train_visual_head(f.fit_x[:, B], f.fit_soft, f.x['test'][:, B], f.y['test'], f.plus['test'], f.posterior_va_test)
print('bs-only head: FER2013', round(m['fer2013_test_categories']['accuracy'], 3), 'FER+', round(m['ferplus_majority_test_categories']['accuracy'], 3),
      'neutral', [round(v, 3) for v in (m['fer2013_test']['per_class']['neutral']['valence'], m['fer2013_test']['per_class']['neutral']['arousal'])],
      'ccc', round(m['fer2013_test']['ccc_valence'], 3), round(m['fer2013_test']['ccc_arousal'], 3), flush=True)
MEAD = {"angry": "angry", "contempt": "contempt", "disgusted": "disgust", "fear": "fear", "happy": "happy", "neutral": "neutral", "sad": "sad", "surprised": "surprise"}
classes = list(MEAD.values()); points = np.array([CIRCUMPLEX[c] for c in classes])
rows = {}
paths = sorted(Path('/work/shared/data/real/mead').glob('*.mp4')) + sorted(Path('/work/shared/data/real/talking').glob('*.mp4')) + sorted(Path('/work/shared/data/av/crema-d').glob('*.flv'))
with emoannot.load() as engine:
    for p in paths:
        df = emoannot.annotate(p, engine).to_dataframe(extra=True)
        bs = df[list(BLENDSHAPE_COLUMNS)].to_numpy(np.float32)
        ok = np.isfinite(bs).all(1)
        x = np.concatenate([bs[ok], np.ones((ok.sum(), 1), np.float32)], 1)
        va = head.predict_va(x)
        p_ = head.predict_proba(x).mean(0)
        rows[p.stem] = {"shipped_face_v": float(np.nanmean(df['valence_visual'])), "bs_face": va.mean(0).tolist(),
                        "bs_top": ["angry","disgust","fear","happy","sad","surprise","neutral"][int(p_.argmax())]}
        print(p.stem, round(rows[p.stem]['shipped_face_v'], 2), [round(v, 2) for v in rows[p.stem]['bs_face']], rows[p.stem]['bs_top'], flush=True)
json.dump(rows, open('/work/exp/bs_head.json', 'w'), indent=1)
mead = {k: v for k, v in rows.items() if k.startswith(('M0', 'W0'))}
acc = np.mean([classes[int(np.argmin(((points - np.array(v['bs_face'])) ** 2).sum(1)))] == MEAD[k.split('_')[2]] for k, v in mead.items()])
def cls_mean(c): return np.mean([v['bs_face'][0] for k, v in mead.items() if k.split('_')[2] == c])
print('bs-only MEAD 8-way', round(acc, 3), 'neutral', round(cls_mean('neutral'), 3), 'happy-neutral', round(cls_mean('happy') - cls_mean('neutral'), 3), 'surprise', round(cls_mean('surprised'), 3))
