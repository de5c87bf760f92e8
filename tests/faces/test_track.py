"""Face tracking (emoannot/faces/track.py, people.py) on synthetic detections: one face, several people,
the tick rate and its interpolated boxes."""

import numpy as np
import pytest

from emoannot.config import FaceConfig


def _det(x, y, w=50, score=0.9):
    from emoannot.faces import Detection

    return Detection(score, np.array([x, y, w, w], np.float32), np.array([[x + 15, y + 20], [x + 35, y + 20]], np.float32))


def test_tracker_keeps_the_same_face_and_smooths_its_box():
    from emoannot.faces.track import _Tracker

    tr = _Tracker(FaceConfig(smooth=0.5))
    d, box = tr.update([_det(100, 100), _det(300, 100, w=40)])
    assert box[0] == 100  # the larger face is taken first
    d, box = tr.update([_det(300, 100, w=80), _det(110, 100)])  # a bigger face appears elsewhere: keep ours
    assert d.box[0] == 110 and box[0] == pytest.approx(105)
    assert tr.update([]) is None  # lost: the next detection starts afresh
    d, box = tr.update([_det(300, 100, w=80)])
    assert box[0] == 300


def test_track_faces_one_crop_per_tick_and_gaps_filled():
    from emoannot.faces import track_faces
    from emoannot.records import Frame

    class FakeDetector:
        def detect(self, rgb):
            return [] if rgb[0, 0, 0] == 1 else [_det(20, 20)]

    frames = []
    for i in range(12):  # 5 fps for 2.4 s: ticks 0,2,4,... are reached, the odd ticks are filled from the previous
        rgb = np.zeros((120, 120, 3), np.uint8)
        rgb[:, :, 0] = 1 if i in (3, 4) else 0
        rgb[30:90, 30:90] = 80 + i
        frames.append(Frame(i, i / 5, rgb, 1.0))
    track = track_faces(frames, FaceConfig(), FakeDetector())
    assert track.n_frames == 12 and track.present.tolist() == [i not in (3, 4) for i in range(12)]
    assert track.crops.shape == (24, 48, 48) and len(track.crop_mask) == 24
    assert not track.crop_mask[6] and not track.crop_mask[8]  # frames 3 and 4 had no face
    assert track.crop_mask[7] == track.crop_mask[6] and (track.crops[5] == track.crops[4]).all()
    assert np.isnan(track.box[3]).all() and not np.isnan(track.box[0]).any()
    assert track.coverage == pytest.approx(10 / 12)


def _two_faces(n, bad=None):
    """n frames at 25 fps of two faces of different colours (left, right, 80 px); the left one's mouth region
    moves (its texture shifts by a pixel each frame), the right one's is still; frame `bad` is not an image."""
    from emoannot.records import Frame

    rng = np.random.default_rng(0)
    texture = (rng.random((24, 48, 3)) * 255).astype(np.uint8)
    frames = []
    for i in range(n):
        rgb = np.zeros((120, 240, 3), np.uint8)
        rgb[20:100, 20:100], rgb[20:100, 140:220] = (200, 120, 90), (60, 90, 200)
        rgb[70:94, 36:84] = np.roll(texture, i % 2, axis=1)  # the left mouth: back and forth
        rgb[70:94, 156:204] = texture  # the right mouth: still
        frames.append(Frame(i, i / 25, rgb[:, :, 0] if i == bad else rgb, 1.0))
    return frames


def test_track_people_follows_everyone_and_measures_each_mouth_on_the_worker():
    from emoannot.faces import track_people

    class FakeDetector:
        def detect_everyone(self, rgb, look_far):
            return [_det(140, 20, w=80), _det(20, 20, w=80)], False

    times, people = track_people(_two_faces(30), FaceConfig(every_frame=True), FakeDetector())
    assert len(times) == 30 and [p.id for p in people] == [1, 2]
    left, right = sorted(people, key=lambda p: p.track.box[0, 0])
    assert left.track.present.all() and right.track.present.all()
    assert np.isnan(left.mouth[0]) and np.isfinite(left.mouth[1:]).all()  # motion since the previous frame
    assert np.median(left.mouth[1:]) > 0.5 > 0.05 > np.median(right.mouth[1:])


def test_track_people_at_the_tick_rate_analyses_once_a_tick_and_measures_the_mouth_on_every_frame():
    from emoannot.faces import track_people

    calls, near = [], []

    class FakeDetector:
        def detect_everyone(self, rgb, look_far):
            calls.append(rgb)
            return [_det(140, 20, w=80), _det(20, 20, w=80)], False

        def detect_near(self, rgb):
            near.append(rgb)
            return [_det(140, 20, w=80), _det(20, 20, w=80)]

    frames = _two_faces(30)  # 25 fps: the first frame of each 0.1 s tick is 0, 3, 5, 8, 10, ...
    times, people = track_people(frames, FaceConfig(), FakeDetector())
    assert len(calls) == 12 and [c is frames[i].rgb for i, c in zip((0, 3, 5, 8), calls)] == [True] * 4
    assert len(near) == 18  # the other frames: the short-range detector alone, for the mouth boxes
    left, right = sorted(people, key=lambda p: p.track.box[0, 0])
    assert np.isnan(left.mouth[0]) and np.isfinite(left.mouth[1:]).all()  # on every frame
    assert np.median(left.mouth[1:]) > 0.5 > 0.05 > np.median(right.mouth[1:])
    assert left.track.present.all() and not np.isnan(left.track.box).any()  # the frames between filled in


def _moving_face_frames(n: int, fps: float, gone=()):
    """n frames of a face whose box moves 3 px right per frame (its x written into the pixels, for the fake
    detector); no face on the frames in `gone`."""
    from emoannot.records import Frame

    frames = []
    for i in range(n):
        rgb = np.zeros((120, 240, 3), np.uint8)
        rgb[0, 0, 0] = 255 if i in gone else 0
        rgb[0, 1, 0] = 10 + 3 * i
        rgb[30:90, 30:90] = 80
        frames.append(Frame(i, i / fps, rgb, 2.0))
    return frames


class _XDetector:
    """A detector that reads the face's x from the pixels (_moving_face_frames) and counts its calls."""

    def __init__(self):
        self.calls = 0

    def detect(self, rgb):
        self.calls += 1
        return [] if rgb[0, 0, 0] == 255 else [_det(float(rgb[0, 1, 0]), 20)]


def test_track_faces_at_the_tick_rate_interpolates_the_boxes_between_analysed_frames():
    from emoannot.faces import track_faces

    det = _XDetector()
    track = track_faces(_moving_face_frames(30, 30.0), FaceConfig(), det)
    assert det.calls == 10  # 30 fps: one frame in three is analysed
    x = track.box[:, 0] / 2.0  # boxes are in original pixels (scale 2)
    # the analysed frames carry the (lightly smoothed) detections; the frames between lie on the line joining them
    assert np.allclose(x[1], x[0] + (x[3] - x[0]) / 3, atol=1e-4) and np.allclose(x[2], x[0] + 2 * (x[3] - x[0]) / 3,
                                                                                   atol=1e-4)
    assert np.abs(x - (10 + 3 * np.arange(30)))[:28].max() < 1  # the smoothing lags by well under a frame's move
    assert x[28] == x[29] == x[27]  # after the last analysed frame (27) the box is held, not extrapolated
    assert track.present.all() and track.crop_mask.sum() == 10

    every = _XDetector()
    full = track_faces(_moving_face_frames(30, 30.0), FaceConfig(every_frame=True), every)
    assert every.calls == 30 and full.present.all()


def test_track_faces_at_the_tick_rate_takes_presence_from_the_nearer_analysed_frame():
    from emoannot.faces import track_faces

    # 30 fps, frames 0, 3, 6, 9 analysed; frame 6 has no face: the frames nearer to it than to 3 or 9 (5, 7)
    # have none either, the others keep the face (4 is nearer to 3, 8 to 9)
    track = track_faces(_moving_face_frames(12, 30.0, gone={6, 7, 8}), FaceConfig(), _XDetector())
    assert track.present.tolist() == [True] * 5 + [False] * 3 + [True] * 4
    assert np.isnan(track.box[5:8]).all() and np.isnan(track.score[5:8]).all()
    assert np.allclose(track.box[4], track.box[3]) and np.allclose(track.box[8], track.box[9])


def test_below_ten_frames_a_second_every_frame_is_analysed():
    from emoannot.faces import track_faces

    det = _XDetector()
    track = track_faces(_moving_face_frames(12, 4.0), FaceConfig(), det)  # 4 fps: each frame opens its own tick
    assert det.calls == 12 and track.present.all()
    assert track.crop_mask.all() and len(track.crop_mask) == 30  # the ticks no frame reached take the previous crop


def test_track_people_an_error_on_the_worker_reaches_the_caller():
    import cv2

    from emoannot.faces import track_people

    class FakeDetector:
        def detect_everyone(self, rgb, look_far):
            return [_det(20, 20, w=80)], False

        def detect_near(self, rgb):
            return [_det(20, 20, w=80)]

    with pytest.raises(cv2.error):  # frame 5 is not a colour image: its appearance cannot be measured
        track_people(_two_faces(40, bad=5), FaceConfig(), FakeDetector())
