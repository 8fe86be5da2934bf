"""The page a person uses, in a real browser: headless Chromium opens the page of a server started on
loopback, a Korean sentence is typed and the button pressed, and the highlighted entities and their types
are the API's answer for that sentence. A screenshot is saved in the test's folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="serving needs pip install 'nlprnn[serve]'")
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test drives Chromium with selenium")
if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip("no Chromium here (Debian: apt-get install chromium chromium-driver)", allow_module_level=True)

from pipelines.cli import task_command  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = "장민재와 박지훈은 어제 만났다.\n김민수는 올해 경기 안양시에서 일했다."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("ner")
    assert task_command("ner")(["train", "--data", str(ROOT / "data/ner_raw/train.txt"), "--valid",
                                str(ROOT / "data/ner_raw/dev.txt"), "--set", "data.units=characters", "--epochs", "3",
                                "--out", str(out / "run"), "--no-progress"]) == 0
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "pipelines.serve", "--bundle", str(out / "run" / "bundle"),
                                "--port", str(port)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(f"the server did not start: {process.stderr.read() if process.stderr else ''}")
    yield base
    process.terminate()  # SIGTERM: uvicorn lets the requests in flight finish, then exits by the same signal
    assert process.wait(timeout=30) in (0, -15)
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1000,700"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
    yield driver
    driver.quit()


def api(base: str, texts: list[str]) -> list[dict]:
    import json

    request = urllib.request.Request(f"{base}/predict", data=json.dumps({"texts": texts}).encode(),
                                     headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request, timeout=30).read())["results"]


def test_the_page_highlights_the_entities_the_api_finds(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "run").get_attribute("data-ready") == "1")
    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(SENTENCES)
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#result .sentence"))
    shown = [[{"start": int(mark.get_attribute("data-start")), "end": int(mark.get_attribute("data-end")),
               "type": mark.get_attribute("data-type"),
               "text": mark.text.removesuffix(mark.find_element(By.CLASS_NAME, "type").text).strip()}
              for mark in sentence.find_elements(By.CSS_SELECTOR, "mark.entity")]
             for sentence in browser.find_elements(By.CSS_SELECTOR, "#result .sentence")]
    expected = [result["entities"] for result in api(server, SENTENCES.split("\n"))]
    assert shown == expected and sum(map(len, expected)) >= 1
    assert browser.find_element(By.ID, "about").text.startswith("entity types: DT, LC, OG, PS, TI")
    browser.save_screenshot(str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").stat().st_size > 10_000
    print(f"screenshot: {tmp_path / 'page.png'}; entities shown: {shown}")
