"""--people all on real faces: a real talking head (../shared/data/real/talking, its own speech) beside a MEAD
clip (../shared/data/real/mead, no audio), composed with ffmpeg: side by side, swapping sides, hidden for
1 s, gone for 3 s; and a still face under speech. Tiny random weights: these check tracking, ids and the
speaker, not emotion numbers."""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

import emoannot
from emoannot.records import PEOPLE_COLUMNS

from helpers import ROOT, SHARED, ffmpeg, need

REAL = SHARED / "data" / "real"
SIDE = 360  #: each clip is scaled to SIDE x SIDE; the talking head is on the left unless said otherwise


def compose(out, talking: str, mead: str, graph: str) -> str:
    """ffmpeg: the talking head as [a], the MEAD clip looped as [b], both SIDE x SIDE at 25 fps; `graph`
    makes [v] from them; the talking head's audio is kept."""
    ffmpeg("-i", str(need(REAL / "talking" / talking)), "-stream_loop", "2", "-i", str(need(REAL / "mead" / mead)),
           "-filter_complex", f"[0:v]scale={SIDE}:{SIDE},setsar=1,fps=25[a];[1:v]scale={SIDE}:{SIDE},setsar=1,fps=25[b];"
           + graph, "-map", "[v]", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-t", "6", str(out))
    return out


@pytest.fixture(scope="module")
def people_engine(tiny_weights):
    from emoannot.config import FaceConfig, PeopleMode, SpeechConfig

    with emoannot.load(device="cpu", weights=str(tiny_weights), faces=FaceConfig(people=PeopleMode.all),
                       speech=SpeechConfig(check_language=False)) as e:
        yield e


def centre_x(p, sel) -> float:
    box = p.track.box[sel]
    return float(np.nanmean(box[:, 0] + box[:, 2] / 2))


def test_two_people_side_by_side_each_tracked_with_their_own_values_and_files(people_engine, tmp_path):
    from emoannot.api import write_outputs

    clip = compose(tmp_path / "side.mp4", "face2.mp4", "W011_front_sad_level3_001.mp4",
                   "[a][b]hstack=inputs=2:shortest=1[v]")
    a = emoannot.annotate(clip, people_engine)
    assert [p.id for p in a.people] == [1, 2]
    left, right = sorted(a.people, key=lambda p: centre_x(p, slice(None)))
    assert centre_x(left, slice(None)) < SIDE < centre_x(right, slice(None))
    for p in a.people:
        assert p.coverage >= 0.8 and np.isfinite(p.valence).mean() >= 0.8
        # one person, one side, all the way through
        xs = p.track.box[p.track.present, 0] + p.track.box[p.track.present, 2] / 2
        assert (xs < SIDE).all() or (xs > SIDE).all()
    # the talking head (left) speaks; the MEAD actor (right, mouthing words without sound) does not. (The
    # attribution does not reach this on every pair: README "Several people" gives the rate on five.)
    speech = a.speech
    assert (left.speaking & speech).sum() >= 0.8 * speech.sum() and not (right.speaking & speech).any()
    assert "voice" in set("+".join(left.sources).split("+")) and "voice" not in "+".join(right.sources)
    assert a.main_person == left.id and np.array_equal(a.valence, left.valence, equal_nan=True)
    from dataclasses import replace

    from emoannot.config import OutputFormat

    formats = (OutputFormat.csv, OutputFormat.elan, OutputFormat.html)
    paths = write_outputs(replace(a, settings=replace(a.settings, formats=formats)), tmp_path / "side.mp4.emoannot",
                          "cpu")
    table = pd.read_csv(paths.people, keep_default_na=False, na_values=[""])
    assert tuple(table.columns) == PEOPLE_COLUMNS and len(table) == 2 * a.n_frames
    assert set(table["person"]) == {1, 2} and table.groupby("frame").size().eq(2).all()
    mine = table[table.person == left.id]
    assert np.allclose(mine["valence"], np.round(left.valence, 4), equal_nan=True)
    for p in a.people:  # each person's own category, empty exactly where their valence is
        rows_p = table[table.person == p.id]
        assert (rows_p["emotion"].isna() == rows_p["valence"].isna()).all()
        assert list(rows_p["emotion"].fillna("")) == list(p.emotion)
    assert (mine["word"].fillna("") != "").sum() > 0 and (table[table.person == right.id]["word"].fillna("") == "").all()
    m = json.loads(paths.manifest.read_text())["people"]
    assert [x["person"] for x in m] == [1, 2] and [x["main"] for x in m] == [left.id == 1, left.id == 2]
    assert next(x for x in m if x["person"] == left.id)["speaking_s"] > 1.0
    # ELAN: each person's tiers; the HTML report: one line per person
    from pympi import Elan

    from test_exports import check_eaf_structure

    check_eaf_structure(paths.elan)
    eaf = Elan.Eaf(str(paths.elan))
    assert {f"person {i} {x}" for i in (1, 2) for x in ("valence", "arousal", "emotion", "speaking")} <= set(eaf.get_tier_names())
    spoken = eaf.get_annotation_data_for_tier(f"person {left.id} speaking")
    assert spoken and not eaf.get_annotation_data_for_tier(f"person {right.id} speaking")
    page = paths.html.read_text()
    data = json.loads(page.split('type="application/json">', 1)[1].split("</script>", 1)[0])
    assert [p["id"] for p in data["people"]] == [1, 2] and len({p["colour"] for p in data["people"]}) == 2


def test_ids_follow_people_who_swap_sides(people_engine, tmp_path):
    clip = compose(tmp_path / "swap.mp4", "face2.mp4", "W011_front_sad_level3_001.mp4",
                   "[a]split[a1][a2];[b]split[b1][b2];"
                   "[a1][b1]hstack=inputs=2:shortest=1,trim=0:3,setpts=PTS-STARTPTS[l];"
                   "[b2][a2]hstack=inputs=2:shortest=1,trim=3:6,setpts=PTS-STARTPTS[r];[l][r]concat=n=2:v=1:a=0[v]")
    a = emoannot.annotate(clip, people_engine)
    assert len(a.people) == 2
    first, second = a.times < 2.9, a.times > 3.1
    for p in a.people:
        assert p.coverage >= 0.9
        assert (centre_x(p, first) < SIDE) != (centre_x(p, second) < SIDE)  # the same id on the other side


def test_ids_survive_two_people_crossing(people_engine, tmp_path):
    """The talking head moves left to right across a wide frame, the MEAD actor right to left in front of it:
    the faces overlap for about a second, the talking head hidden behind; each keeps their id (the one
    that starts on the left ends on the right). The talking head's face is small beside the MEAD actor's
    (the short-range detector alone misses it): both are found in most frames."""
    size, width, speed = 240, 960, 150  # pixels, pixels, pixels per second: they meet at t = 2.4 s
    clip = compose(tmp_path / "cross.mp4", "face2.mp4", "W011_front_sad_level3_001.mp4",
                   f"[a]scale={size}:{size}[a2];[b]scale={size}:{size}[b2];"
                   f"color=c=black:s={width}x{SIDE}:r=25:d=6[bg];"
                   f"[bg][a2]overlay=x='t*{speed}':y=60:shortest=1[m];"
                   f"[m][b2]overlay=x='{width - size}-t*{speed}':y=60:shortest=1[v]")
    a = emoannot.annotate(clip, people_engine)
    assert len(a.people) == 2 and min(p.coverage for p in a.people) >= 0.6, [(p.id, p.coverage) for p in a.people]
    start, end = a.times < 1.0, a.times > a.times[-1] - 0.8
    for p in a.people:
        assert (centre_x(p, start) < width / 2) != (centre_x(p, end) < width / 2)  # crossed, same id


@pytest.mark.parametrize("hidden, name", [((2, 3), "hidden for 1 s"), ((1.5, 4.5), "gone for 3 s")])
def test_a_person_keeps_their_id_through_an_occlusion(people_engine, tmp_path, hidden, name):
    t0, t1 = hidden
    clip = compose(tmp_path / "occluded.mp4", "face4.mp4", "W009_front_neutral_level1_001.mp4",
                   f"[b]drawbox=x=0:y=0:w=iw:h=ih:color=gray:t=fill:enable='between(t,{t0},{t1})'[g];"
                   "[a][g]hstack=inputs=2:shortest=1[v]")
    a = emoannot.annotate(clip, people_engine)
    assert len(a.people) == 2, name
    right = max(a.people, key=lambda p: centre_x(p, slice(None)))
    seen = a.times[right.track.present]
    assert seen.min() < t0 and seen.max() > t1 + 0.5  # before and after the gap: one id
    assert not right.track.present[(a.times > t0 + 0.1) & (a.times < t1 - 0.1)].any()


def test_a_still_face_is_not_given_the_voice(people_engine, tmp_path):
    """A frozen frame of a face under real speech: its mouth does not move, so the voice belongs to nobody."""
    clip = tmp_path / "still.mp4"
    ffmpeg("-i", str(need(REAL / "talking" / "face2.mp4")), "-filter_complex",
           "[0:v]trim=end_frame=1,loop=loop=200:size=1,setpts=N/25/TB,scale=360:360,setsar=1[v]", "-map", "[v]",
           "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", "5",
           str(clip))
    a = emoannot.annotate(clip, people_engine)
    assert len(a.people) == 1 and a.speech.any()
    assert not a.people[0].speaking.any() and "voice" not in "+".join(a.people[0].sources)
    assert [w for w in a.warnings if "nobody visible" in w]


PAIRS = (("face1.mp4", "W009_front_happy_level3_001.mp4"), ("face2.mp4", "M030_front_angry_level3_001.mp4"),
         ("face3.mp4", "W011_front_sad_level3_001.mp4"), ("face4.mp4", "W009_front_neutral_level1_001.mp4"),
         ("face5.mp4", "M030_front_happy_level3_001.mp4"))


@pytest.mark.slow
def test_the_voice_goes_to_the_talking_head_more_than_to_its_silent_neighbour(people_engine, tmp_path):
    """Five real talking heads, each beside a MEAD actor mouthing words without sound (the talking head on the
    left, then on the right): the speaking flag must fall on the talking head in at least 80 % of the speech
    frames of every pair (the issue's bar), and on the MEAD actor in at most 20 %."""
    for i, (talking, mead) in enumerate(PAIRS):
        on_right = bool(i % 2)
        graph = "[b][a]hstack=inputs=2:shortest=1[v]" if on_right else "[a][b]hstack=inputs=2:shortest=1[v]"
        a = emoannot.annotate(compose(tmp_path / f"pair{i}.mp4", talking, mead, graph), people_engine)
        assert len(a.people) == 2 and a.speech.any()
        head, actor = sorted(a.people, key=lambda p: centre_x(p, slice(None)), reverse=on_right)
        on_head, on_actor = ((p.speaking & a.speech).sum() / a.speech.sum() for p in (head, actor))
        assert on_head >= 0.8 and on_actor <= 0.2, (talking, mead, on_head, on_actor)


def turns(out, left: str, right: str, turn_s: float, n: int):
    """Two of the real talking heads side by side (SIDE x SIDE each), heard in turns: benchmarks/people.turns,
    the graph the benchmark measures with (one place, so that the two cannot drift apart)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from people import turns as side_by_side_in_turns

    return side_by_side_in_turns(need(REAL / "talking" / left), need(REAL / "talking" / right), out, turn_s, n)


@pytest.mark.slow
def test_the_voice_follows_two_people_taking_turns(people_engine, tmp_path):
    """Two real talking heads side by side, both moving their lips all along, heard in turns of 8 s (left,
    right, left): the speaking flag follows the turns. On 10 such pairs (benchmarks/people.py) the flag was on
    the person heard in 85 % of the speech frames on average; here, the first two pairs in that order must
    reach 70 %, and each person must have the flag in most of the speech of their own turn."""
    for i, (left, right) in enumerate((("face1.mp4", "face2.mp4"), ("face1.mp4", "face3.mp4"))):
        a = emoannot.annotate(turns(tmp_path / f"turns{i}.mp4", left, right, 8.0, 3), people_engine)
        assert len(a.people) == 2 and a.speech.any()
        people = sorted(a.people, key=lambda p: centre_x(p, slice(None)))
        heard = (np.floor(a.times / 8.0) % 2).astype(int)  # 0: the left one, 1: the right one
        correct = sum((p.speaking & a.speech & (heard == j)).sum() for j, p in enumerate(people))
        assert correct / a.speech.sum() >= 0.7, (left, right, correct / a.speech.sum())
        for j, p in enumerate(people):
            own = a.speech & (heard == j)
            assert p.speaking[own].mean() > 0.5, (left, right, j, p.speaking[own].mean())


@pytest.mark.slow
def test_an_unseen_speaker_gives_the_voice_to_nobody(people_engine, tmp_path):
    """A MEAD actor mouthing words without sound, under a real talking head's voice (the talking head not in
    the picture): the actor's lips move, but not in step with this voice, so the voice belongs to nobody. These
    two clips are among the five the chance threshold (speakers.Z_MIN) was chosen on; on five others the voice
    went to nobody in 3 (benchmarks/people.py, README "Several people")."""
    for i, (talking, mead) in enumerate(PAIRS[:2]):
        clip = tmp_path / f"unseen{i}.mp4"
        ffmpeg("-stream_loop", "2", "-i", str(need(REAL / "mead" / mead)), "-i", str(need(REAL / "talking" / talking)),
               "-filter_complex", f"[0:v]scale={SIDE}:{SIDE},setsar=1,fps=25[v]", "-map", "[v]", "-map", "1:a",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip))
        a = emoannot.annotate(clip, people_engine)
        assert len(a.people) == 1 and a.speech.sum() > 50
        assert (a.people[0].speaking & a.speech).sum() <= 0.2 * a.speech.sum(), (mead, talking)
        assert [w for w in a.warnings if "nobody visible" in w]


def test_people_all_keeps_the_face_of_a_clip_shorter_than_the_flicker_rule(tiny_weights, tmp_path):
    """Issue 28.3: a one-frame clip's face is a person with --people all too (the 'tracks under 0.5 s are
    detector flicker' rule dropped it and the main CSV said no face was found)."""
    from typer.testing import CliRunner

    from emoannot.cli import app
    from helpers import EXAMPLE

    clip = tmp_path / "oneframe.mp4"
    ffmpeg("-i", str(EXAMPLE), "-frames:v", "1", "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip))
    for mode in ("main", "all"):
        result = CliRunner().invoke(app, ["predict", str(clip), "--out", str(tmp_path / mode), "--weights",
                                          str(tiny_weights), "--device", "cpu", "--no-plot", "--people", mode])
        assert result.exit_code == 0, result.output
        assert "no face was found" not in result.output
        df = pd.read_csv(tmp_path / mode / "oneframe.mp4.emoannot" / "oneframe.csv")
        assert df["face"].tolist() == [1] and df["valence"].notna().all()


@pytest.mark.slow  # 24 faces in a 1536x1024 group shot through the quarter-frame search (about 5 s)
def test_a_group_shot_finds_every_face(tiny_weights, tmp_path):
    """Issue 28.13: 24 real faces of ~120 px in a 1536x1024 group shot (the first frames of the 24 MEAD clips,
    6 x 4): one pass of the detectors over the analysed frame found 12; the quarters of the frame find all."""
    import cv2

    from emoannot.video import iter_frames, probe
    from helpers import ffmpeg

    tiles = [next(iter(iter_frames(probe(p), 256, ahead=0))).rgb
             for p in sorted(need(SHARED / "data" / "real" / "mead").glob("*.mp4"))]
    assert len(tiles) == 24
    grid = np.concatenate([np.concatenate(tiles[r * 6 : (r + 1) * 6], 1) for r in range(4)], 0)
    cv2.imwrite(str(tmp_path / "group.png"), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    clip = tmp_path / "group.mp4"
    ffmpeg("-loop", "1", "-i", str(tmp_path / "group.png"), "-t", "1", "-r", "10", "-c:v", "libx264", "-preset",
           "ultrafast", "-pix_fmt", "yuv420p", str(clip))
    from emoannot.config import FaceConfig, PeopleMode

    with emoannot.load(device="cpu", weights=str(tiny_weights), faces=FaceConfig(people=PeopleMode.all)) as engine:
        a = emoannot.annotate(clip, engine)
    assert len(a.people) == 24
    assert all(p.track.coverage > 0.5 for p in a.people)
