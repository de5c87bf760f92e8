"""benchmarks/realdev.py --only SET with the CNN's crop cut at another margin (the landmarker's region
unchanged; the shipped margin is 1.15). From the repository root:

    EMOANNOT_SHARED=../shared .venv/bin/python benchmarks/trials/2026-12-07-crop-margin/dev.py 1.4 mead
"""
import runpy
import sys

import emoannot.faces.detect as dt
import emoannot.faces.track as tr

scale = float(sys.argv[1]) / 1.15
orig = dt.align_crop
def patched(grey, det, box, margin, size=dt.CROP_SIZE):
    return orig(grey, det, box, margin * scale, size)
tr.align_crop = patched
sys.argv = ["realdev.py", "--only", sys.argv[2]]
runpy.run_path("benchmarks/realdev.py", run_name="__main__")
