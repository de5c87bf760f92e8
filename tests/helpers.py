"""What the tests share besides fixtures: where the media are, and small helpers. Test modules import it
(`from helpers import ...`; pytest puts tests/ on sys.path); conftest.py holds only fixtures."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EMOANNOT_SHARED", ROOT.parent / "shared"))
MEDIA = SHARED / "media"
CREMA = SHARED / "data" / "av" / "crema-d"
EXAMPLE = ROOT / "examples" / "1001_DFA_HAP_XX.flv"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available (set EMOANNOT_SHARED to the shared folder)")
    return path


def ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], check=True)


def count_frames(path: Path) -> int:
    """Frames counted by the ffmpeg binary (independent of emoannot's PyAV decoder)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.count_frames_and_secs(str(path))[0]


def chrome():
    """A headless Chromium driven by Debian's chromedriver; skip (saying why) where they are missing."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.skip("Debian's chromium and chromium-driver are not installed (apt-get install chromium "
                    "chromium-driver; .ci/run does it)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1000", "--mute-audio"):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=Service(driver))


def wait_js(d, script: str, timeout: float = 15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = d.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")
