"""A real browser for the workbench tests (tests/web/) and `hotline bench-web`: Debian's Chromium
driven by Selenium through Debian's chromedriver (both installed by `make test`: apt packages
chromium, chromium-driver), headless, with a fresh profile and nothing of its own going out (no updates, no background networking). Every
request the pages make is in Chrome's performance log, which the tests read."""

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTEFACTS = Path(__file__).resolve().parent.parent / "tests" / "artefacts" / "screens"
DESKTOP = (1366, 768)
PHONE = (390, 844)


def available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    if not available():
        raise RuntimeError("Chromium is not installed: `make browser` installs it (apt: chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="workbench-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-default-apps", "--disable-sync",
        "--disable-extensions", "--lang=zh-CN", f"--user-data-dir={profile}",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    """Every URL the browser asked for since the last call (the log is drained by reading it)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def screenshot(driver: webdriver.Chrome, name: str, folder: Path = ARTEFACTS) -> list[Path]:
    """The page at 1366×768 and at phone size (390×844), full height, kept under tests/artefacts/screens/."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for label, (w, h) in (("desktop", DESKTOP), ("phone", PHONE)):
        metrics = {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": label == "phone"}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        driver.execute_script("window.dispatchEvent(new Event('resize'))")
        driver.execute_script("return new Promise((r) => requestAnimationFrame(() => setTimeout(r, 150)))")
        path = folder / f"{name}-{label}.png"
        path.write_bytes(driver.get_screenshot_as_png())
        paths.append(path)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_script("window.dispatchEvent(new Event('resize'))")
    return paths
