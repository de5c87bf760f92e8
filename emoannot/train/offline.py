"""The offline-corpora recipe that produces the shipped weights, from one command:

    emoannot train ../shared/data --format offline --out weights

Steps (each resumes or reuses its cache under --run-dir): expression CNN on FER2013 (+CK+),
speech and text features, audio and text heads, composite sequences, then the three fusions (RJCMA,
CFN-SR, Foal-Net) on the same composites and seeds, each with its held-out evaluation. The default fusion
(RJCMA) ships as FUSION_MEMBERS seeds read as their average.
"""
from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from emoannot.atomic import write_text
from emoannot.errors import WeightsError
from emoannot.features.visual import fusion_face
from emoannot.metrics import ccc, macro_f1
from emoannot.model.expression import ExpressionCNN
from emoannot.model.fusions import Fusion, FusionEnsemble, config_class, n_parameters
from emoannot.model.weights import load_state, write_weights
from emoannot.features.audio import HEAD_WINDOW
from emoannot.timeline import TRAIN_HOP, WINDOW
from emoannot.train import CNN_EPOCHS
from emoannot.train.composites import (CATEGORIES, FAST_SEGMENT, P_FAST, P_MIXED, Pool, build_pool, compose,
                                       faces_only)
from emoannot.train.face_inputs import crop_gap, face_inputs, ship_landmarker
from emoannot.train.fit_cnn import VisualTrainConfig, train_visual
from emoannot.train.fit_fusion import FusionTrainConfig, Windows, predict_windows, train_fusion
from emoannot.train.fit_heads import (AUDIO_ENCODER, HELDOUT_SPEAKERS, NEUTRAL_BOOST, NEUTRAL_JITTER_COPIES,
                                      emobank_features, speech_corpus_features, train_audio_head, train_text_head,
                                      train_visual_head)

#: fusions trained as several seeds read as their average (emoannot.model.fusions.FusionEnsemble): one seed's
#: luck moved the shipped figures by more than a release does (benchmarks/trials/2026-12-07-fusion-seeds)
FUSION_MEMBERS = {Fusion.rjcma: 3}
PATTERN_NAMES = {(1, 1, 1): "face+voice+words", (1, 1, 0): "face+voice", (1, 0, 0): "face only",
                 (0, 1, 1): "voice+words", (0, 1, 0): "voice only", (0, 0, 0): "nothing"}
LICENCES = {
    "FER2013": "research use; no licence stated by its publishers",
    "CK+": "non-commercial research",
    "EmoDB": "free for research",
    "RAVDESS": "CC BY-NC-SA 4.0",
    "CREMA-D": "ODbL 1.0 / DbCL 1.0",
    "pyAudioAnalysis clips": "Apache-2.0",
    "EmoBank": "CC-BY-SA 4.0",
}
DOMAIN_GAP = ("Faces are posed or lab expressions (FER2013 web images, CK+ lab) and the speech is acted "
              "(EmoDB, RAVDESS, CREMA-D); the fusion never saw real audio-visual emotion video, only "
              "composites of unimodal samples. Expect weaker and more category-like output on "
              "in-the-wild recordings; train on Aff-Wild2 (`emoannot train DATA --format affwild2`) for that domain.")


def _evaluate(model, w: Windows, present: np.ndarray) -> dict:
    pred, probs = predict_windows(model, w)
    m = w.label_mask
    dv, da, dt = (x.shape[-1] - 3 for x in (w.visual, w.audio, w.text))
    uni = {}
    for name, x, d in (("face", w.visual, dv), ("voice", w.audio, da), ("words", w.text, dt)):
        uni[name] = x[..., d : d + 2] * x[..., -1:]  # 0 where absent
    count = sum(x[..., -1:] for x in (w.visual, w.audio, w.text))
    uni["average"] = (uni["face"] + uni["voice"] + uni["words"]) / np.maximum(count, 1)
    candidates = {"fusion": pred, **uni}

    def ccc_pair(p, sel):
        return {"valence": ccc(p[sel][:, 0], w.target[sel][:, 0]),
                "arousal": ccc(p[sel][:, 1], w.target[sel][:, 1])}

    out = {"overall": {k: ccc_pair(v, m) for k, v in candidates.items()}, "per_pattern": {}}
    pat = present.astype(int)
    for key, name in PATTERN_NAMES.items():
        sel = m & (pat[..., 0] == key[0]) & (pat[..., 1] == key[1]) & (pat[..., 2] == key[2])
        if sel.sum() > 50:
            out["per_pattern"][name] = {"ticks": int(sel.sum()),
                                        **{k: ccc_pair(v, sel) for k, v in candidates.items()}}
    if probs is not None and w.category is not None:
        out["categories"] = category_scores(probs, w.category)
    return out


def category_scores(probs: np.ndarray, category: np.ndarray) -> dict:
    """Accuracy, macro-F1 and per-class recall of the most probable category over the ticks with a category."""
    has = category >= 0
    guess, truth = probs[has].argmax(-1), category[has]
    recall = {c: float((guess[truth == i] == i).mean()) for i, c in enumerate(CATEGORIES) if (truth == i).any()}
    return {"ticks": int(has.sum()), "accuracy": float((guess == truth).mean()),
            "macro_f1": macro_f1(truth, guess, len(CATEGORIES)), "recall": recall}


def seconds_per_minute(model, threads: int = 2, repeats: int = 3) -> float:
    """CPU seconds of emoannot.fusion.fuse for one minute of video (600 ticks, every modality present)."""
    from emoannot.fusion import fuse
    from emoannot.records import ModalityFeatures

    k = 600
    rng = np.random.default_rng(0)
    feats = tuple(ModalityFeatures(name, rng.standard_normal((k, d - 3)).astype(np.float32), np.ones(k, bool),
                                   np.zeros((k, 2), np.float32))
                  for name, d in zip(("visual", "audio", "text"), model.cfg.in_dims))
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        fuse(model, feats)
        t0 = time.perf_counter()
        for _ in range(repeats):
            fuse(model, feats)
        return (time.perf_counter() - t0) / repeats
    finally:
        torch.set_num_threads(before)


FUSION_PAPERS = {
    Fusion.rjcma: "Praveen & Alam (2024), Recursive Joint Cross-Modal Attention for Multimodal Fusion in "
                  "Dimensional Emotion Recognition, CVPR-W",
    Fusion.cfn_sr: "Fu et al. (2021), A cross-modal fusion network based on self-attention and residual structure "
                   "for multimodal emotion recognition",
    Fusion.foal_net: "Li et al. (2024), Enhancing Modal Fusion by Alignment and Label Matching for Multimodal "
                     "Emotion Recognition, Interspeech",
}


def train_offline(data: Path, out: Path, run_dir: Path, seed: int = 0, visual_epochs: int = CNN_EPOCHS,
                  fusion_epochs: int = 15, n_train: int = 4000, n_eval: int = 600, log=print,
                  fusions: tuple[Fusion, ...] = tuple(Fusion)) -> dict:
    torch.manual_seed(seed)
    cache = run_dir / "cache"
    # 1. expression CNN
    try:
        cnn_state, cnn_info = load_state(out, "expression_cnn")
        log(f"expression CNN: reusing {cnn_info.path} (test acc {cnn_info.card['metrics']['fer2013_test_accuracy']:.3f})")
    except WeightsError:  # not trained yet (or damaged): train it
        train_visual(data, run_dir / "visual", out, VisualTrainConfig(epochs=visual_epochs, seed=seed), log)
        cnn_state, cnn_info = load_state(out, "expression_cnn")
    cnn = ExpressionCNN()
    cnn.load_state_dict(cnn_state)
    # 2. the face as the product reads it: CNN embedding + the landmarker's blendshapes (FER+ soft labels)
    faces = face_inputs(data, cnn, cache, ship_landmarker(out), log)
    visual_head, visual_metrics = train_visual_head(faces.fit_x, faces.fit_soft, faces.x["test"], faces.y["test"],
                                                    faces.plus["test"], faces.posterior_va_test, seed)
    visual_metrics["crops"] = crop_gap(visual_head, faces)
    neutral = visual_metrics["fer2013_test"]["per_class"]["neutral"]
    gap = visual_metrics["crops"]
    log(f"visual head, the test faces the detector finds: FER+ majority {gap['ferplus_majority_found_product_crops']:.3f} "
        f"from the product's crops, {gap['ferplus_majority_found_direct_crops']:.3f} from the direct crops")
    log(f"visual head: FER2013 test accuracy {visual_metrics['fer2013_test_categories']['accuracy']:.3f}, FER+ majority "
        f"{visual_metrics['ferplus_majority_test_categories']['accuracy']:.3f}; neutral mean V {neutral['valence']:+.3f} "
        f"A {neutral['arousal']:+.3f}")
    sf = speech_corpus_features(data, cache, log)
    tf = emobank_features(data, cache, log)
    audio_head, audio_metrics, sf = train_audio_head(sf, HELDOUT_SPEAKERS, seed)  # sf: speaker-centred from here
    log(f"audio head: {json.dumps({k: v for k, v in audio_metrics.items() if isinstance(v, float)})}")
    text_head, text_metrics = train_text_head(tf, seed)
    log(f"text head: {json.dumps({k: v for k, v in text_metrics.items() if isinstance(v, float)})}")
    common = {"seed": seed, "licences": LICENCES, "domain_gap": DOMAIN_GAP}
    write_weights(out, "visual_head", visual_head.state_dict(), {
        **common, "task": "face-only valence/arousal and 7 categories from the expression CNN's embedding and the "
                          "face landmarker's blendshapes",
        "input": "emoannot.features.visual.face_vector: L2-normalised expression-CNN embedding of the aligned 48x48 "
                 "crop (256) + the 51 blendshapes of the face region (emoannot.features.blendshapes) + a read bit",
        "data": "FER2013 train + validation images with FER+ soft labels (10 annotators' vote shares over the seven "
                "classes), CK+ (contempt left out, its own labels); FER2013 test for the metrics. Each fitting face is "
                "read from its direct 48x48 crop and again as a video gives it: shown 4x in a 640x480 frame, the crop "
                "the product's own detector and aligner cut (emoannot.train.face_inputs.product_crops; found for two "
                "thirds of FER2013's faces, 99 % of CK+'s); the test metrics and the composites read the product's "
                "crop (the face itself where none is found)",
        "labels": "the vote-weighted average of the classes' circumplex points (emoannot.labels); classes balanced by "
                  f"majority, neutral counted {NEUTRAL_BOOST}x (the origin anchor)",
        "recipe": f"{visual_metrics['members']} heads (seeds {seed * visual_metrics['members']}, +1, ...), read as their "
                  "average (emoannot.model.heads.HeadEnsemble); each an MLP 308-128-(2 + 7), MSE + (1 - CCC) + soft "
                  f"cross-entropy, AdamW, {visual_metrics['epochs']} epochs, balanced sampling, and its own anchored "
                  "affine calibration on 5-fold out-of-fold predictions",
        "metrics": visual_metrics})
    write_weights(out, "audio_head", audio_head.state_dict(), {
        **common, "task": f"valence/arousal (+9 speech categories) from {HEAD_WINDOW / 10:g} s means of speaker-centred "
                          "whisper tiny.en encoder states",
        "input": "whisper tiny.en encoder hidden states (384-d, 50 Hz) pooled to 10 Hz, speech ticks only, minus the "
                 "speaker's neutral voice (training: the mean of the speaker's neutral and calm clips; inference: "
                 "features.audio.speaker_centre, the video's own speech mean drawn towards the training speakers' "
                 "mean neutral voice, stored in the head as `centre`, by `centre_prior` ticks)",
        "encoder": AUDIO_ENCODER.value,
        "data": "EmoDB (535 clips, 10 German speakers), RAVDESS speech (1,440 clips, 24 English actors), CREMA-D actor "
                "1002 (6), pyAudioAnalysis clips (47); held out of the shipped head: " + ", ".join(HELDOUT_SPEAKERS),
        "labels": "categories mapped to the circumplex by emoannot.labels (Warriner et al. 2013 norms; RAVDESS "
                  "intensity normal 0.75, strong 1.0)",
        "recipe": "MLP 384-128-(2 + 9), MSE + (1 - CCC) + cross-entropy, AdamW, 150 epochs, categories balanced, "
                  f"neutral and calm x{NEUTRAL_BOOST:g}; samples = clip means + 4 random {HEAD_WINDOW / 10:g} s windows "
                  f"per clip; each neutral and calm sample {NEUTRAL_JITTER_COPIES} more times, moved by a within-clip 1 s "
                  "deviation x U(0, 1) (content jitter: the corpora say two to ten sentences per speaker)",
        "metrics": audio_metrics})
    write_weights(out, "text_head", text_head.state_dict(), {
        **common, "task": "valence/arousal from the mean of MiniLM contextual word vectors (12-word window)",
        "input": "all-MiniLM-L6-v2 last hidden states, tokens pooled per word (384-d)",
        "data": "EmoBank train split; model selection on dev; metrics on test",
        "labels": "EmoBank V and A rescaled (x - 3) / 2",
        "recipe": "MLP 384-256-2, MSE + (1 - CCC), AdamW, 150 epochs, best dev epoch",
        "metrics": text_metrics})
    # 3. composites
    heldout = [i for i, c in enumerate(sf.clips) if c.speaker in HELDOUT_SPEAKERS]
    train_clips = [i for i, c in enumerate(sf.clips) if c.speaker not in HELDOUT_SPEAKERS]
    idx = {s: np.flatnonzero(tf.split == s) for s in ("train", "dev", "test")}
    log("building composite pools")
    pools: dict[str, Pool] = {}
    for split, clips, sents in (("train", train_clips, idx["train"]), ("val", train_clips, idx["dev"]),
                                ("test", heldout, idx["test"])):
        x = faces.x[split]
        pools[split] = build_pool(fusion_face(visual_head, x), visual_head.predict_va(x), faces.label[split], sf, clips,
                                  audio_head, tf, sents, text_head)
    val_w, _ = compose(pools["val"], n_eval, WINDOW, seed + 1)
    test_w, test_present = compose(pools["test"], n_eval, WINDOW, seed + 2)
    faces_w, faces_present = faces_only(pools["test"], n_eval // 2, WINDOW, seed + 3)
    in_dims = (val_w.visual.shape[-1], val_w.audio.shape[-1], val_w.text.shape[-1])
    fcfg = FusionTrainConfig(epochs=fusion_epochs, seed=seed)
    summary = {"expression_cnn": cnn_info.card["metrics"], "visual_head": visual_metrics, "audio_head": audio_metrics,
               "text_head": text_metrics}
    for fusion in fusions:
        fusion = Fusion(fusion)
        model_cfg = config_class(fusion)(in_dims=in_dims, window=WINDOW, classes=CATEGORIES)
        n = FUSION_MEMBERS.get(fusion, 1)
        members, histories, member_scores = [], [], []
        for i in range(n):
            # member i: its own seed s (the fusion's initialisation, its training and validation sequences);
            # member 0 of every fusion sees the same sequences in the same order (same seeds)
            s = seed * n + i
            member_val = val_w if s == seed else compose(pools["val"], n_eval, WINDOW, s + 1)[0]
            member, fusion_meta = train_fusion(
                fusion, model_cfg, lambda e, s=s: compose(pools["train"], n_train, WINDOW, s + 100 + e)[0],
                member_val, run_dir / (f"fusion-{fusion.part}" + (f"-member{i}" if i else "")),
                replace(fcfg, seed=s), log=log)
            members.append(member)
            histories += [{"member": i, **h} for h in fusion_meta["history"]] if n > 1 else fusion_meta["history"]
            if n > 1:
                alone = _evaluate(member, test_w, test_present)
                member_scores.append({"seed": s, **alone["overall"]["fusion"],
                                      "category_accuracy": alone["categories"]["accuracy"],
                                      "faces_1s_valence": _evaluate(member, faces_w, faces_present)["overall"]["fusion"]
                                      ["valence"]})
        model = FusionEnsemble(members).eval() if n > 1 else members[0]
        evaluation = _evaluate(model, test_w, test_present)
        evaluation["fer2013_test_faces_1s_mixed_order"] = _evaluate(model, faces_w, faces_present)["overall"]
        fused, avg = evaluation["overall"]["fusion"], evaluation["overall"]["average"]
        log(f"{fusion.value} held-out composites: V {fused['valence']:.3f} A {fused['arousal']:.3f}, categories "
            f"accuracy {evaluation['categories']['accuracy']:.3f}; unimodal average V {avg['valence']:.3f} "
            f"A {avg['arousal']:.3f}")
        cost = {"parameters": n_parameters(model), "cpu_seconds_per_minute_of_video_2_threads": seconds_per_minute(model)}
        write_weights(out, fusion.part, model.state_dict(), {
            **common, "fusion": fusion.value, "paper": FUSION_PAPERS[fusion],
            "task": "per-frame valence/arousal and emotion category at 10 Hz fused from face, voice and words",
            "config": model_cfg.to_dict(), "classes": list(CATEGORIES),
            "data": "composite sequences (design: emoannot.train.composites) of FER2013 train images, speech "
                    f"clips of all speakers but {', '.join(HELDOUT_SPEAKERS)}, EmoBank train sentences; "
                    "validation: FER2013 val + EmoBank dev; test: FER2013 test images, held-out speakers, "
                    "EmoBank test sentences",
            **({"members": n} if n > 1 else {}),
            "recipe": {**fusion_meta["recipe"], "window": WINDOW, "train_hop": TRAIN_HOP,
                       **({"members": f"{n} trained with seeds {seed * n}..{seed * n + n - 1} (initialisation, training "
                                      "and validation sequences), read as their average (FusionEnsemble: mean "
                                      "valence/arousal, mean category probabilities); the test sequences are the same"}
                          if n > 1 else {}),
                       "sequences_per_epoch": n_train,
                       "loss": "1 - CCC over the batch's labelled ticks + 0.5 MSE + 0.5 category cross-entropy"
                               + (" + 0.2 face-voice contrastive alignment + 0.2 label matching"
                                  if fusion == Fusion.foal_net else ""),
                       "selection": "the epoch with the best validation mean of CCC V, CCC A and category accuracy",
                       "composites": f"{P_FAST:.0%} of sequences in segments of {FAST_SEGMENT[0] / 10:.1f}-"
                                     f"{FAST_SEGMENT[1] / 10:.1f} s, the rest in 1-4 segments; {P_MIXED:.0%} of "
                                     "segments mixed (voice and words of another emotion than the face); target = "
                                     "the face's point and category, else the voice's; ticks with nothing present "
                                     "unlabelled"},
            "history": histories,
            "metrics": {"heldout_composites": evaluation, "n_test_sequences": n_eval, **cost,
                        **({"members_alone": member_scores} if n > 1 else {})}})
        summary[f"{fusion.part}_heldout"] = {**evaluation, **cost}
    write_text(out / "MODEL_CARD.json", json.dumps(summary, indent=2) + "\n")
    write_text(out / "MODEL_CARD.md", model_card_markdown(out))
    return summary


def model_card_markdown(folder: Path) -> str:
    """The short human-readable model card, generated from the JSON cards in `folder`."""
    parts = ("expression_cnn", "visual_head", "audio_head", "text_head", "rjcma")
    cards = {n: json.loads((folder / f"{n}.json").read_text()) for n in parts}
    others = {n: json.loads((folder / f"{n}.json").read_text()) for n in ("cfn_sr", "foal_net")
              if (folder / f"{n}.json").exists()}
    cnn, vis, aud, txt, fus = (cards[n]["metrics"] for n in parts)
    vt = vis["fer2013_test"]
    ev = fus["heldout_composites"]
    lines = [
        "# emoannot default weights: model card", "",
        "Generated by `emoannot.train.offline.model_card_markdown` from the JSON cards beside this file; every",
        "figure was measured on held-out data by `emoannot train ../shared/data --format offline --out weights`",
        f"(seed {cards['rjcma']['seed']}).", "",
        "| part | trained on | held-out result |", "|---|---|---|",
        f"| expression_cnn (0.57 M params, 48x48 grey face -> 7 classes, 256-d embedding) | FER2013 train + CK+ "
        f"(contempt dropped) | FER2013 test accuracy {cnn['fer2013_test_accuracy']:.3f} "
        f"(val {cnn['fer2013_val_accuracy']:.3f})"
        + (f"; FER+ majority {cnn['ferplus_majority_test_accuracy']:.3f}" if "ferplus_majority_test_accuracy" in cnn
           else "") + " |",
        "| visual_head (CNN embedding + 51 blendshapes -> face-only V/A + 7 categories"
        + (f"; {vis['members']} seeds averaged" if vis.get("members", 1) > 1 else "")
        + f") | FER2013 train + val with FER+ soft labels, CK+; classes balanced, neutral x{vis['neutral_boost']:g} | "
        f"FER2013 test accuracy {vis['fer2013_test_categories']['accuracy']:.3f} "
        f"(FER+ majority {vis['ferplus_majority_test_categories']['accuracy']:.3f}"
        + (f"; members alone {min(vis['members_ferplus_majority_test_accuracy']):.3f} to "
           f"{max(vis['members_ferplus_majority_test_accuracy']):.3f}" if "members_ferplus_majority_test_accuracy" in vis
           else "") + ", "
        f"disgust recall {vis['ferplus_majority_test_categories']['recall']['disgust']:.2f}); CCC vs class points V "
        f"{vt['ccc_valence']:.3f} / A {vt['ccc_arousal']:.3f}; neutral mean "
        f"({vt['per_class']['neutral']['valence']:+.3f}, {vt['per_class']['neutral']['arousal']:+.3f})"
        + (f"; the test faces the detector finds ({vis['crops']['detector_found_test']:.0%}), FER+ majority from the "
           f"product's crops {vis['crops']['ferplus_majority_found_product_crops']:.3f}, from the direct crops "
           f"{vis['crops']['ferplus_majority_found_direct_crops']:.3f}" if "crops" in vis else "") + " |",
        f"| audio_head (speaker-centred whisper tiny.en encoder states -> V/A + 9 categories) | EmoDB, RAVDESS (24 "
        f"actors), CREMA-D 1002, pyAudioAnalysis | leave-speakers-out: RAVDESS 8-way accuracy "
        f"{aud['ravdess_leave_actors_out_accuracy_8class']:.3f} (one clip as the product reads it "
        f"{aud['ravdess_leave_actors_out_accuracy_8class_as_product_reads_one_clip']:.3f}), EmoDB 7-way "
        f"{aud['emodb_leave_speakers_out_accuracy_7class']:.3f} ("
        f"{aud['emodb_leave_speakers_out_accuracy_7class_as_product_reads_one_clip']:.3f}) |",
        f"| text_head (MiniLM word vectors -> V/A) | EmoBank train (dev for selection) | EmoBank test CCC V "
        f"{txt['emobank_test_ccc_valence']:.3f} / A {txt['emobank_test_ccc_arousal']:.3f} |",
        "| rjcma (RJCMA fusion, 10 Hz, window 100; the default"
        + (f"; {cards['rjcma']['members']} seeds averaged" if cards["rjcma"].get("members", 1) > 1 else "")
        + ") | composite sequences of the above (train splits) | "
        f"held-out composites CCC V {ev['overall']['fusion']['valence']:.3f} / A {ev['overall']['fusion']['arousal']:.3f}"
        + ("; members alone V " + ", ".join(f"{m['valence']:.3f}" for m in fus["members_alone"]) + ", A "
           + ", ".join(f"{m['arousal']:.3f}" for m in fus["members_alone"]) + "; FER2013 faces 1 s each, fused V "
           + ", ".join(f"{m['faces_1s_valence']:.3f}" for m in fus["members_alone"]) if "members_alone" in fus else "")
        + " |",
    ]
    for part, label in (("cfn_sr", "cfn_sr (CFN-SR fusion, `--fusion cfn-sr`)"),
                        ("foal_net", "foal_net (Foal-Net fusion, `--fusion foal-net`)")):
        if part in others:
            o = others[part]["metrics"]["heldout_composites"]["overall"]["fusion"]
            lines.append(f"| {label} | the same composites, seed and epochs | held-out composites CCC V "
                         f"{o['valence']:.3f} / A {o['arousal']:.3f} |")
    lines += [
        "", "## RJCMA on held-out composites (CCC valence / arousal)", "",
        "| ticks present | ticks | fusion | face | voice | words | plain average |", "|---|---|---|---|---|---|---|",
    ]
    def pair(d):
        return f"{d['valence']:.3f} / {d['arousal']:.3f}"
    o = ev["overall"]
    lines.append(f"| all | | {pair(o['fusion'])} | {pair(o['face'])} | {pair(o['voice'])} | {pair(o['words'])} "
                 f"| {pair(o['average'])} |")
    for name, d in ev["per_pattern"].items():
        lines.append(f"| {name} | {d['ticks']} | {pair(d['fusion'])} | {pair(d['face'])} | {pair(d['voice'])} | "
                     f"{pair(d['words'])} | {pair(d['average'])} |")
    faces = ev.get("fer2013_test_faces_1s_mixed_order")
    if faces:
        lines.append(f"| FER2013 test faces, 1 s each, mixed order, no audio | | {pair(faces['fusion'])} | "
                     f"{pair(faces['face'])} | | | |")
    fusion_cards = {"rjcma": cards["rjcma"], **others}
    if all("categories" in c["metrics"]["heldout_composites"] for c in fusion_cards.values()):
        lines += ["", "## Emotion categories on held-out composites (each tick's most probable category)", "",
                  "Target: the face's category where a face is present, else the voice's; "
                  f"{fusion_cards['rjcma']['metrics']['heldout_composites']['categories']['ticks']} ticks.", "",
                  "| fusion | accuracy | macro-F1 | " + " | ".join(CATEGORIES) + " (recall) | parameters |",
                  "|---|---|---|" + "---|" * len(CATEGORIES) + "---|"]
        for name, card in fusion_cards.items():
            c = card["metrics"]["heldout_composites"]["categories"]
            lines.append(f"| {name} | {c['accuracy']:.3f} | {c['macro_f1']:.3f} | "
                         + " | ".join(f"{c['recall'].get(k, float('nan')):.2f}" for k in CATEGORIES)
                         + f" | {card['metrics'].get('parameters', '')} |")
    if "ferplus_majority_test_categories" in vis:
        for key, title in (("ferplus_majority_test_categories", "the FER+ majority of 10 annotators"),
                           ("fer2013_test_categories", "FER2013's own labels")):
            cm = vis[key]
            lines += ["", f"## Visual head categories on FER2013 test, against {title} (rows: truth, columns: guess)", "",
                      f"Accuracy {cm['accuracy']:.3f} on {cm['n']} faces.", "",
                      "| truth \\ guess | " + " | ".join(cm["classes"]) + " | recall |",
                      "|---|" + "---|" * (len(cm["classes"]) + 1)]
            for c, row in zip(cm["classes"], cm["confusion"]):
                lines.append(f"| {c} | " + " | ".join(str(x) for x in row) + f" | {cm['recall'][c]:.2f} |")
    before = vis["fer2013_test_posterior_average_before"]["per_class"]
    lines += ["", "## Face-only valence/arousal per class (FER2013 test; mean, distance to the class's point)", "",
              "| class | point | visual_head | posterior average (before) |", "|---|---|---|---|"]
    from emoannot.labels import va_point

    for c, d in vt["per_class"].items():
        p, b = va_point(c), before[c]
        lines.append(f"| {c} | ({p[0]:+.2f}, {p[1]:+.2f}) | ({d['valence']:+.3f}, {d['arousal']:+.3f}) "
                     f"{d['distance_to_point']:.3f} | ({b['valence']:+.3f}, {b['arousal']:+.3f}) {b['distance_to_point']:.3f} |")
    lines += ["", "Held-out composites use only FER2013 test images, the speakers "
              f"{', '.join(aud['heldout_speakers'])} (never seen by the audio head or the fusion) and EmoBank test sentences.",
              "", "## Labels", "",
              "Categories are mapped to the circumplex with one table (emoannot/labels.py): Warriner et al. (2013)",
              "norms of the category word, (x - 5) / 4; neutral pinned to (0, 0); intensity scales the point",
              "(low 0.5, medium/normal 0.75, high/strong 1.0).", "",
              "## Data licences", ""]
    lines += [f"- {k}: {v}" for k, v in LICENCES.items()]
    lines += ["", "Several sets are research-only or non-commercial (FER2013, CK+, RAVDESS): so are these weights.", "",
              "## Known domain gap", "", DOMAIN_GAP, ""]
    return "\n".join(lines)
