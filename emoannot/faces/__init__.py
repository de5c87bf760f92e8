"""Face stage: one main face (track_faces) or every person with a stable id and how much their mouth moves
(track_people); aligned grey crops and the face landmarker's blendshapes for the visual encoder.

Faces are analysed at the model's rate: detection, tracking, crops and blendshapes run on the first decoded
frame in each tick's interval (emoannot.timeline; `analysed_frames`), and the frames between take their face
box interpolated between the analysed frames around them and their `present` and score from the nearer of
the two (`_fill_between`). FaceConfig.every_frame (`--every-frame`) analyses every decoded frame instead;
the crops and blendshapes stay one per tick either way. With several people, mouth movement (who is
speaking) is still measured from every frame to the next, on each person's box followed from frame to frame
by the short-range detector alone (FaceDetector.detect_near, about 2 ms a frame): the box's small movements
with the jaw are part of what that measure reads, and with boxes interpolated between analysed frames the
speaker attribution lost 0.11 of the speech on turn-taking clips (benchmarks/people.py).

The package by job: faces.detect (mediapipe detection and the aligned crops), faces.track (the one main
face, the tick-rate analysis and the frames between), faces.people (everyone, with identities and their
mouth movement, measured with speakers.mouth_motion)."""
from emoannot.faces.detect import Detection, FaceDetector, align_crop, face_region
from emoannot.faces.people import track_people
from emoannot.faces.track import analysed_frames, empty_track, frame_selector, track_faces

__all__ = ["Detection", "FaceDetector", "align_crop", "analysed_frames", "empty_track", "face_region",
           "frame_selector", "track_faces", "track_people"]
