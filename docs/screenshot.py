"""Screenshot of an emoannot HTML report in headless Chromium (Debian's chromium + chromium-driver), as in the
README:

    emoannot predict examples/1001_DFA_HAP_XX.flv --video --format html --out /tmp/ex
    python docs/screenshot.py /tmp/ex/1001_DFA_HAP_XX.flv.emoannot/1001_DFA_HAP_XX.html docs/html-report.png --at 1.2
"""
import argparse
import time
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("page", type=Path)
    ap.add_argument("png", type=Path)
    ap.add_argument("--at", type=float, default=0.0, help="seconds into the video")
    ap.add_argument("--size", default="1100,1050")
    args = ap.parse_args()
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={args.size}", "--mute-audio",
              "--hide-scrollbars"):
        opts.add_argument(a)
    d = webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))
    try:
        d.get(args.page.resolve().as_uri())
        for _ in range(100):
            if d.execute_script("return window.emoannot.state.videoOk"):
                break
            time.sleep(0.1)
        d.execute_script(f"document.getElementById('video').currentTime = {args.at};")
        time.sleep(1.5)
        d.save_screenshot(str(args.png))
    finally:
        d.quit()
    Image.open(args.png).convert("RGB").quantize(colors=256).save(args.png, optimize=True)


if __name__ == "__main__":
    main()
