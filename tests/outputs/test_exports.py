"""ELAN, WebVTT and the HTML report, written from a real clip (the example's face and speech, then 4 s of grey:
words, then a stretch with no face and no speech) with the tiny random-weights set; the report is opened in
a real headless Chromium (Debian's chromium + chromium-driver)."""
from __future__ import annotations

import io
import json
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import emoannot
from emoannot.api import write_outputs
from emoannot.config import OutputFormat

from helpers import EXAMPLE, chrome, ffmpeg, wait_js

ALL = (OutputFormat.all,)  #: every format: Settings expands it


@pytest.fixture(scope="module")
def talk_then_grey(tmp_path_factory) -> Path:
    """H.264/AAC mp4 (browsers play it): the example's 1.9 s of face and speech, then 4 s of grey."""
    out = tmp_path_factory.mktemp("exports") / "talk then grey.mp4"
    ffmpeg("-i", str(EXAMPLE), "-f", "lavfi", "-i", "color=c=gray:s=480x360:d=4:r=30", "-filter_complex",
           "[0:v]fps=30,setsar=1[a];[1:v]setsar=1[b];[a][b]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "0:a",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out))
    return out


@pytest.fixture(scope="module")
def written(tiny_engine, talk_then_grey, tmp_path_factory):
    a = emoannot.annotate(talk_then_grey, tiny_engine)
    assert a.transcript.words and np.isnan(a.valence).any() and np.isfinite(a.valence).any()
    folder = tmp_path_factory.mktemp("out") / "results" / f"{talk_then_grey.name}.emoannot"
    paths = write_outputs(replace(a, settings=replace(a.settings, formats=ALL)), folder, "cpu")
    return a, paths


# --- ELAN ---------------------------------------------------------------------------------------------------
#: the top-level order of EAF's schema (EAFv2.8/3.0.xsd: ANNOTATION_DOCUMENT's sequence)
EAF_ORDER = ("LICENSE", "HEADER", "TIME_ORDER", "TIER", "LINGUISTIC_TYPE", "LOCALE", "LANGUAGE", "CONSTRAINT",
             "CONTROLLED_VOCABULARY", "LEXICON_REF", "EXTERNAL_REF")


def check_eaf_structure(path: Path) -> ET.Element:
    """What ELAN requires of an .eaf (the constraints of its schema that a writer can get wrong)."""
    root = ET.parse(path).getroot()
    assert root.tag == "ANNOTATION_DOCUMENT"
    for attr in ("AUTHOR", "DATE", "FORMAT", "VERSION"):
        assert attr in root.attrib, attr
    order = [EAF_ORDER.index(child.tag) for child in root]  # ValueError: an element the schema does not know
    assert order == sorted(order), [c.tag for c in root]
    header = root.find("HEADER")
    assert header.get("TIME_UNITS", "milliseconds") == "milliseconds"
    for md in header.findall("MEDIA_DESCRIPTOR"):
        assert md.get("MEDIA_URL") and md.get("MIME_TYPE")
    slots = {}
    for ts in root.find("TIME_ORDER"):
        assert ts.tag == "TIME_SLOT" and ts.get("TIME_SLOT_ID") not in slots
        slots[ts.get("TIME_SLOT_ID")] = int(ts.get("TIME_VALUE"))
        assert slots[ts.get("TIME_SLOT_ID")] >= 0
    types = {lt.get("LINGUISTIC_TYPE_ID"): lt for lt in root.findall("LINGUISTIC_TYPE")}
    ids, last_id = set(), 0
    tier_ids = [t.get("TIER_ID") for t in root.findall("TIER")]
    assert len(set(tier_ids)) == len(tier_ids)
    for tier in root.findall("TIER"):
        assert tier.get("LINGUISTIC_TYPE_REF") in types
        assert types[tier.get("LINGUISTIC_TYPE_REF")].get("TIME_ALIGNABLE") == "true"
        spans = []
        for ann in tier:
            assert ann.tag == "ANNOTATION" and len(ann) == 1
            al = ann[0]
            assert al.tag == "ALIGNABLE_ANNOTATION"
            aid = al.get("ANNOTATION_ID")
            assert aid not in ids
            ids.add(aid)
            last_id = max(last_id, int(aid.lstrip("a")))
            start, end = slots[al.get("TIME_SLOT_REF1")], slots[al.get("TIME_SLOT_REF2")]
            assert start < end
            assert al.find("ANNOTATION_VALUE") is not None
            spans.append((start, end))
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), f"{tier.get('TIER_ID')}: overlapping annotations"
    last = [p for p in header.findall("PROPERTY") if p.get("NAME") == "lastUsedAnnotationId"]
    assert last and int(last[0].text) >= last_id  # ELAN numbers new annotations after it
    return root


def test_eaf_has_elans_structure_links_the_video_and_reads_back(written):
    from pympi import Elan

    a, paths = written
    root = check_eaf_structure(paths.elan)
    md = root.find("HEADER/MEDIA_DESCRIPTOR")
    assert (paths.folder / unquote(md.get("RELATIVE_MEDIA_URL"))).resolve() == a.info.path.resolve()
    assert md.get("MIME_TYPE") == "video/mp4"
    eaf = Elan.Eaf(str(paths.elan))  # an independent reader
    assert set(eaf.get_tier_names()) == {"valence", "arousal", "emotion", "sources", "speech", "words"}
    emotion = sorted(eaf.get_annotation_data_for_tier("emotion"))
    assert emotion and {e[2] for e in emotion} <= set(a.classes)
    first = a.emotion.index(emotion[0][2])  # the first run starts at the first frame with a category
    assert abs(emotion[0][0] - round(a.times[first] * 1000)) <= 1
    words = sorted(eaf.get_annotation_data_for_tier("words"))
    assert [w[2] for w in words] == [w.text.strip() for w in a.transcript.words]
    assert all(abs(w[0] - round(x.start * 1000)) <= 1 for w, x in zip(words, a.transcript.words))
    assert len(eaf.get_annotation_data_for_tier("speech")) == len(a.transcript.speech)
    assert json.loads(paths.manifest.read_text())["outputs"]["elan"] == paths.elan.name


def test_eaf_valence_tier_follows_the_csv_and_leaves_gaps_empty(written):
    from pympi import Elan

    from emoannot.outputs.elan import STEADY_RANGE

    a, paths = written
    df = pd.read_csv(paths.csv, keep_default_na=False, na_values=[""])
    eaf = Elan.Eaf(str(paths.elan))
    for tier in ("valence", "arousal"):
        anns = sorted(eaf.get_annotation_data_for_tier(tier))
        assert len(anns) >= 2
        starts = np.array([s for s, _, _ in anns])
        for t, v in zip(df["time_s"], df[tier]):
            ms = round(t * 1000)
            i = np.searchsorted(starts, ms, side="right") - 1
            covered = i >= 0 and anns[i][0] <= ms < anns[i][1]
            assert covered == np.isfinite(v), (tier, t, v)  # a value exactly where the CSV has one
            if covered:
                assert abs(float(anns[i][2]) - v) <= STEADY_RANGE + 0.006
    sources = sorted(eaf.get_annotation_data_for_tier("sources"))
    assert {s[2] for s in sources} <= {x for x in a.sources if x} and "" not in {s[2] for s in sources}


# --- WebVTT -------------------------------------------------------------------------------------------------
def test_vtt_parses_and_carries_the_words_and_each_seconds_values(written):
    import webvtt

    from emoannot.outputs.vtt import CUE_S

    a, paths = written
    def seconds(stamp: str) -> float:  # webvtt-py's *_in_seconds are whole seconds
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    cues = list(webvtt.from_buffer(io.StringIO(paths.vtt.read_text())))
    assert len(cues) == int(np.ceil(a.duration_s / CUE_S - 1e-9))
    assert abs(seconds(cues[-1].end) - a.duration_s) < 0.002
    df = pd.read_csv(paths.csv, keep_default_na=False, na_values=[""])
    said = []
    for cue in cues:
        lines = cue.text.splitlines()
        sel = df[(df.time_s >= seconds(cue.start)) & (df.time_s < seconds(cue.end))]
        if sel["valence"].notna().any():
            v, ar = (float(x) for x in lines[-1].split()[1:4:2])
            assert abs(v - sel["valence"].mean()) <= 0.006 and abs(ar - sel["arousal"].mean()) <= 0.006
        else:
            assert lines[-1] == "no face or speech"
        said += [w for line in lines[:-1] for w in line.split()]
    assert said == [w for x in a.transcript.words for w in x.text.split()]
    assert cues[-1].text == "no face or speech"  # the grey end: no number


def test_srt_has_the_vtts_cues_in_subrips_form(written):
    import re

    a, paths = written
    blocks = paths.srt.read_text(encoding="utf-8").strip().split("\n\n")
    vtt = [b.strip() for b in paths.vtt.read_text(encoding="utf-8").split("\n\n") if "-->" in b]
    assert len(blocks) == len(vtt)
    for i, (block, cue) in enumerate(zip(blocks, vtt), 1):
        lines, vlines = block.split("\n"), cue.split("\n")
        assert lines[0] == str(i)
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", lines[1])
        assert lines[1].replace(",", ".") == vlines[1] and lines[2:] == vlines[2:]  # same times, same text


def test_frames_json_is_the_csv_as_json(written):
    import json

    a, paths = written
    doc = json.loads(paths.json.read_text(encoding="utf-8"))
    df = pd.read_csv(paths.csv, keep_default_na=False, na_values=[""])
    assert doc["columns"] == list(df.columns) and len(doc["frames"]) == len(df) == a.n_frames
    for row, (_, want) in zip(doc["frames"], df.iterrows()):
        for col in ("valence", "arousal", "confidence", "face", "speech"):
            expect = want[col]
            assert (row[col] is None) if pd.isna(expect) else row[col] == pytest.approx(float(expect), abs=1e-9)
        assert (row["word"] or "") == (want["word"] if isinstance(want["word"], str) else "")
    assert [w["text"] for w in doc["words"]] == [w.text.strip() for w in a.transcript.words]


def test_every_format_has_one_writer_and_all_asks_for_each():
    from emoannot.config import Settings
    from emoannot.outputs.writers import WRITERS, output_names

    kinds = [w.kind for w in WRITERS]
    assert len(kinds) == len(set(kinds)) and len({w.suffix for w in WRITERS}) == len(WRITERS)
    formats = [f for f in OutputFormat if f is not OutputFormat.all]
    assert all(f.value in kinds for f in formats)
    settings = Settings(formats=("all",))
    assert settings.formats == tuple(formats)
    assert set(output_names("x", settings)) >= {f.value for f in formats} | {"manifest", "plot"}


# --- HTML ---------------------------------------------------------------------------------------------------
def test_html_is_self_contained_and_carries_the_csv(written):
    a, paths = written
    page = paths.html.read_text()
    assert "http://" not in page and "https://" not in page  # no network
    data = json.loads(page.split('type="application/json">', 1)[1].split("</script>", 1)[0])
    df = pd.read_csv(paths.csv, keep_default_na=False, na_values=[""])
    got = np.array([np.nan if x is None else x for x in data["valence"]], float)
    assert np.array_equal(np.isnan(got), df["valence"].isna().to_numpy())
    assert np.allclose(got[~np.isnan(got)], df["valence"].dropna(), atol=6e-4)
    assert (paths.folder / unquote(data["video"])).resolve() == a.info.path.resolve()


def test_html_plays_the_annotated_copy_when_browsers_cannot_play_the_input(written, tmp_path):
    """The example is FLV (VP6): the page says so, and plays <name>.annotated.mp4 when --video wrote one."""
    from emoannot.outputs.html import browser_playable, write_html
    from emoannot.video import probe

    a = replace(written[0], info=probe(EXAMPLE))
    assert browser_playable(written[0]) and not browser_playable(a)
    write_html(a, tmp_path / "x.html", tmp_path, "x.annotated.mp4")
    page = (tmp_path / "x.html").read_text()
    assert '"video":"x.annotated.mp4"' in page and "cannot play 1001_DFA_HAP_XX.flv (vp6f)" in page
    write_html(a, tmp_path / "y.html", tmp_path)
    assert "Run emoannot with --video" in (tmp_path / "y.html").read_text()


def test_html_report_in_a_real_browser(written, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from emoannot.outputs.html import VALENCE_COLOUR

    a, paths = written
    d = chrome()
    try:
        d.get(paths.html.resolve().as_uri())
        wait_js(d, "return window.emoannot && window.emoannot.state.videoOk")  # the relative link plays
        assert abs(d.execute_script("return document.getElementById('video').duration") - a.duration_s) < 0.2
        # at t = 0 the readout describes the first frame (shown by the video there), not "no face or speech"
        readout = d.find_element(By.ID, "readout").text
        assert readout.startswith("t 0.00 s") and a.sources[0] and a.sources[0] in readout
        assert ("confidence" in readout) == bool(np.isfinite(a.confidence[0]))
        from emoannot.confidence import LOW

        low = bool((a.confidence < LOW).any())
        assert d.execute_script("return document.getElementById('low-legend') !== null") == low
        # the timeline draws: pixels of the valence colour on the canvas, and the no-face shading
        r, g, b = (int(VALENCE_COLOUR[i:i + 2], 16) for i in (1, 3, 5))
        counts = d.execute_script(f"""
            const c = document.getElementById('timeline'), x = c.getContext('2d');
            const p = x.getImageData(0, 0, c.width, c.height).data; let line = 0, grey = 0;
            for (let i = 0; i < p.length; i += 4) {{
              if (Math.abs(p[i]-{r}) < 8 && Math.abs(p[i+1]-{g}) < 8 && Math.abs(p[i+2]-{b}) < 8) line++;
              if (p[i] === 217 && p[i+1] === 217 && p[i+2] === 217) grey++;
            }}
            return [line, grey];""")
        assert counts[0] > 200 and counts[1] > 1000, counts
        # click-to-seek: the middle of the plot area -> the video's currentTime is half the duration
        canvas = d.find_element(By.ID, "timeline")
        width = canvas.size["width"]
        pad_l, pad_r = 42, 10
        target = 0.5 * a.duration_s
        x = pad_l + (width - pad_l - pad_r) * 0.5 - width / 2
        d.execute_script("window.seekedAt = null; document.getElementById('video')"
                         ".addEventListener('seeked', e => { window.seekedAt = e.target.currentTime; });")
        ActionChains(d).move_to_element_with_offset(canvas, int(round(x)), 0).click().perform()
        seeked = wait_js(d, "return window.seekedAt")
        assert abs(seeked - target) < 0.1, (seeked, target)
        assert f"t {d.execute_script('return window.emoannot.state.t'):.2f} s" in d.find_element(By.ID, "readout").text
        # a click on a word jumps to it
        first = d.find_elements(By.CSS_SELECTOR, "#words span")[0]
        d.execute_script("window.seekedAt = null;")
        first.click()
        assert abs(wait_js(d, "return window.seekedAt !== null && window.seekedAt + 1e-9") - a.transcript.words[0].start) < 0.1
        shot = tmp_path / "report.png"
        d.save_screenshot(str(shot))
    finally:
        d.quit()
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[0] > 500 and img.std() > 20 and len(np.unique(img.reshape(-1, 3), axis=0)) > 500


#: file names a user (or whoever named the files) may hand in: quotes, markup, the report's own
#: placeholders, an HTML comment, CJK and an emoji; a name cannot hold "/", so `</script>` comes through the
#: folders above the video (x< / script>...) and through a transcribed word
HOSTILE_NAMES = ("__DATA__<img src=x onerror=\"window.pwned=1\">.mp4",
                 "a'b\"c<script>window.pwned=2<!--.mp4",
                 "__TITLE__ <!--<script> __VCOL__ & 録画 🎬.mp4")


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=("data-img", "script-end", "comment-cjk"))
def test_hostile_file_name_round_trip_and_report_in_a_real_browser(written, talk_then_grey, tmp_path, name):
    """Issue 28.1: a file name never becomes markup or script. Every output (CSV, Aff-Wild2, plot, ELAN, VTT,
    HTML, manifest) is written for a video with a hostile name and read back; the report, opened in Chromium,
    shows the name as text in its title and heading, runs no injected script and carries all of its data."""
    import webvtt
    from selenium.webdriver.common.by import By

    from emoannot.config import OutputFormat as F

    a, _ = written
    video = tmp_path / "x<" / "script><script>window.pwned=3</script>" / name
    video.parent.mkdir(parents=True)
    shutil.copy(talk_then_grey, video)
    word = replace(a.transcript.words[0], text=" </script><script>window.pwned=4</script>")
    transcript = replace(a.transcript, words=(word, *a.transcript.words[1:]))
    hostile = replace(a, info=replace(a.info, path=video), transcript=transcript,
                      settings=replace(a.settings, formats=(F.csv, F.affwild2, F.elan, F.vtt, F.html), write_plot=True))
    paths = write_outputs(hostile, tmp_path / "out" / f"{name}.emoannot", "cpu")
    stem = Path(name).stem
    assert paths.csv.name == f"{stem}.csv" and paths.html.name == f"{stem}.html"
    csv = pd.read_csv(paths.csv)
    assert len(csv) == a.n_frames and np.allclose(csv.valence.to_numpy(), a.valence, atol=1e-3, equal_nan=True)
    assert len(pd.read_csv(paths.affwild2)) == a.n_frames
    manifest = json.loads(paths.manifest.read_text())
    assert manifest["input"]["path"] == str(video) and manifest["complete"]
    md = check_eaf_structure(paths.elan).find("HEADER/MEDIA_DESCRIPTOR")
    assert (paths.folder / unquote(md.get("RELATIVE_MEDIA_URL"))).resolve() == video.resolve()
    assert len(webvtt.read(str(paths.vtt))) > 0
    assert paths.plot.stat().st_size > 10_000
    page = paths.html.read_text()
    assert "<img" not in page and "</script><script>" not in page
    d = chrome()
    try:
        d.get(paths.html.resolve().as_uri())
        wait_js(d, "return window.emoannot && window.emoannot.state")
        assert d.execute_script("return window.pwned === undefined")
        assert d.title == f"emoannot: {name}"
        assert d.find_element(By.TAG_NAME, "h1").text == name
        data = d.execute_script("return JSON.parse(document.getElementById('emoannot-data').textContent)")
        assert data["name"] == name and len(data["valence"]) == a.n_frames
        assert unquote(data["video"]).endswith(f"{video.parent.name}/{name}")
        assert data["words"][0][2] == word.text.strip()
        assert len(d.find_elements(By.TAG_NAME, "script")) == 2 and not d.find_elements(By.TAG_NAME, "img")
    finally:
        d.quit()


# --- CLI and batch ------------------------------------------------------------------------------------------
def test_batch_writes_every_format_and_an_index_linking_the_reports(tiny_weights, talk_then_grey, tmp_path):
    from emoannot.cli import app

    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copy(talk_then_grey, clips / "a.mp4")
    (clips / "broken.mp4").write_text("not a video")
    out = tmp_path / "out"
    args = ["batch", str(clips), "--out", str(out), "--weights", str(tiny_weights), "--device", "cpu", "--no-plot",
            "-q"] + [x for f in ("elan", "vtt", "html") for x in ("--format", f)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # one input failed
    folder = out / "a.mp4.emoannot"
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv", "a.eaf", "a.html", "a.vtt", "manifest.json"]
    check_eaf_structure(folder / "a.eaf")
    index = (out / "index.html").read_text()
    assert 'href="a.mp4.emoannot/a.html"' in index and "broken.mp4" in index and index.count("href=") == 1
    page = (folder / "a.html").read_text()
    assert '"video":"../../clips/a.mp4"' in page
