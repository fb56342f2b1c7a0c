"""Screenshot a dashboard page with headless Chromium, once the grid map has drawn.

python -m dashboard.screenshot http://127.0.0.1:8050/ out.png --size 1920x1080
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The map draws through software WebGL in headless Chromium; this is how long to allow.
MAP_TIMEOUT_S = 30.0
SETTLE_S = 1.0

# True once the map's canvas exists and the choropleth has its locations.
MAP_DRAWN_JS = """
const plot = document.querySelector('#grid-map .js-plotly-plot');
return Boolean(plot && plot.data && plot.data.length && plot.data[0].locations
    && plot.querySelector('.maplibregl-canvas'));
"""


def chromium_driver(width: int, height: int) -> webdriver.Chrome:
    """Headless Chromium at the given window size, using the system's driver (no downloads)."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # --window-size sets the outer window; make the page itself exactly width x height.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    return driver


def take_screenshot(url: str, out: Path, width: int = 1920, height: int = 1080) -> Path:
    """Open url, wait for the grid map to draw, save a PNG of the viewport to out."""
    driver = chromium_driver(width, height)
    try:
        driver.get(url)
        try:
            WebDriverWait(driver, MAP_TIMEOUT_S, poll_frequency=0.25).until(
                lambda d: d.execute_script(MAP_DRAWN_JS)
            )
        except TimeoutException:
            print(
                f"the map did not draw within {MAP_TIMEOUT_S:.0f} s; saving the page anyway",
                file=sys.stderr,
            )
        WebDriverWait(driver, MAP_TIMEOUT_S).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#alert-list > *")
        )
        time.sleep(SETTLE_S)  # let MapLibre finish its first frames and fonts settle
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
    finally:
        driver.quit()
    return out


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise argparse.ArgumentTypeError(f"size must look like 1920x1080, not {text!r}")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=_size, default=(1920, 1080), help="WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        print(
            f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian: chromium, chromium-driver)",
            file=sys.stderr,
        )
        return 2
    width, height = args.size
    print(take_screenshot(args.url, args.out, width, height))
    return 0


if __name__ == "__main__":
    sys.exit(main())
