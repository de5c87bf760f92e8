"""The README's picture of --people all (docs/people-overlay.png): the example clip beside a still, mirrored
copy of its first frame, annotated with --people all --video; the frame at 1.2 s of the annotated video.

    .venv/bin/python docs/people_overlay.py docs/people-overlay.png
"""
import argparse
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "1001_DFA_HAP_XX.flv"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("png", type=Path)
    ap.add_argument("--at", type=float, default=1.2, help="seconds into the video")
    args = ap.parse_args()
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory() as tmp:
        clip, out = Path(tmp) / "two.mp4", Path(tmp) / "out"
        subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(EXAMPLE), "-filter_complex",
                        "[0:v]split[a][b];[b]trim=end_frame=1,loop=loop=-1:size=1,setpts=N/FRAME_RATE/TB,hflip[s];"
                        "[a][s]hstack=inputs=2:shortest=1[v]", "-map", "[v]", "-map", "0:a", "-c:v", "libx264",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip)], check=True)
        subprocess.run(["emoannot", "predict", str(clip), "--people", "all", "--video", "--out", str(out)], check=True)
        video = next(out.rglob("*.mp4"))
        subprocess.run([ffmpeg, "-v", "error", "-y", "-ss", str(args.at), "-i", str(video), "-frames:v", "1",
                        str(args.png)], check=True)


if __name__ == "__main__":
    main()
