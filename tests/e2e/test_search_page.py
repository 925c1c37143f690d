"""The search page of `newsflow serve`, in headless Chromium: a Chinese query typed into the box,
highlighted snippets, Chinese rendered as glyphs (not boxes), an outlet filter, and a story's copies
folded into one hit that opens from the keyboard.

The server is the real command in a subprocess, over an alias of this test's own (a few Chinese
and English articles), on a free loopback port.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from pipeline.config import Settings
from schemas.models import Article
from tests.conftest import REPO
from tests.e2e.browser import chromium, screenshot, wait_for
from tests.support.articles import make_article
from tests.support.ports import free_port
from tests.support.stacks import index_articles

pytestmark = pytest.mark.services

QUERY = "跨境电商"


def _article(
    article_id: str, title: str, body: str, outlet: str, language: str, day: int, story: str | None = None
) -> Article:
    return make_article(
        article_id,
        title=title,
        body=body,
        when=datetime(2024, 7, day, 8, 0, tzinfo=UTC),
        summary=body.split("\n")[0][:80],
        language=language,
        outlet=outlet,
        category="business" if language == "en" else "caijing",
        tags=["e2e", outlet],
        source_id="e2e-page",
        story_id=story or article_id,
    )


ARTICLES = [
    _article(
        "zh-zones",
        "广东8个跨境电商综试区方案同日出炉",
        "近日，广东8个跨境电商综试区实施方案同日出炉。\n至此广东实现跨境电商综试区全覆盖。",
        "21世纪经济报道",
        "zh",
        1,
        "zh-zones",
    ),
    # Two copies of that story from other outlets, published later the same day: folded into its hit.
    _article(
        "zh-zones-sina",
        "广东8个跨境电商综试区实施方案出炉",
        "广东8个跨境电商综试区实施方案同日出炉，至此广东实现跨境电商综试区全覆盖。",
        "新浪财经",
        "zh",
        1,
        "zh-zones",
    ),
    _article(
        "zh-zones-cls",
        "广东跨境电商综试区全覆盖",
        "财联社讯，广东8个跨境电商综试区实施方案同日出炉，广东实现跨境电商综试区全覆盖。",
        "财联社",
        "zh",
        1,
        "zh-zones",
    ),
    _article(
        "zh-trade",
        "广州外贸新政出台",
        "广州发布稳外贸措施。\n文件提到，将继续推进跨境电商发展，并支持海外仓建设。",
        "证券时报",
        "zh",
        2,
    ),
    _article("zh-other", "科创板开市五周年", "科创板开市五年来，上市公司研发投入持续增长。", "证券时报", "zh", 3),
    _article(
        "en-trade",
        "Cross-border e-commerce zones expand",
        "Guangdong now has cross-border e-commerce pilot zones in every city.",
        "Harbour City Wire",
        "en",
        4,
    ),
]


# The story of three copies: whichever copy matches best stands for it, the other two fold under it.
STORY_OUTLETS = {a.title: a.outlet for a in ARTICLES if a.story_id == "zh-zones"}


@pytest.fixture
def server(isolated: Settings) -> Iterator[str]:
    """`newsflow serve` over ARTICLES in the test's alias; its base URL. Stopped (SIGTERM, then kill) after."""
    index_articles(isolated, ARTICLES)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")} | isolated.as_env()
    command = [str(REPO / ".venv" / "bin" / "newsflow"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if not os.access(command[0], os.X_OK):
        command[0:1] = [sys.executable, "-m", "pipeline.cli"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"newsflow serve exited: {process.communicate()[0].decode(errors='replace')}"
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "newsflow serve did not answer /healthz within 30s"
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


# Draws two different characters in the page's own font stack and compares the pixels: a missing
# CJK font turns both into the same empty box ("tofu"), a real font draws two different glyphs.
_GLYPHS_DIFFER = """
const font = '32px ' + getComputedStyle(document.body).fontFamily;
const draw = (text) => {
  const canvas = document.createElement('canvas');
  canvas.width = 48; canvas.height = 48;
  const ctx = canvas.getContext('2d');
  ctx.font = font; ctx.fillStyle = '#000'; ctx.textBaseline = 'top';
  ctx.fillText(text, 4, 4);
  return Array.from(ctx.getImageData(0, 0, 48, 48).data).join(',');
};
return draw(arguments[0]) !== draw(arguments[1]);
"""


def _hits(driver: WebDriver) -> list[dict[str, str]]:
    rows = []
    for hit in driver.find_elements(By.CSS_SELECTOR, "ol.hits li.hit"):
        rows.append(
            {
                "title": hit.find_element(By.CSS_SELECTOR, "h2").text,
                "meta": hit.find_element(By.CSS_SELECTOR, ".meta").text,
                "snippet": hit.find_element(By.CSS_SELECTOR, ".snippet").text,
                "lang": hit.get_attribute("lang") or "",
                "marked": "".join(m.text for m in hit.find_elements(By.TAG_NAME, "mark")),
            }
        )
    return rows


def _summary(driver: WebDriver) -> str | None:
    """The result summary line of the page now shown (None while a navigation replaces it)."""
    try:
        found = driver.find_elements(By.CSS_SELECTOR, "p.summary")
        return found[0].text if found else None
    except StaleElementReferenceException:
        return None


def test_search_page_finds_chinese_with_highlights_and_filters(server: str, browser: WebDriver) -> None:
    browser.get(server + "/")
    box = wait_for(browser, "the query box", lambda d: d.find_elements(By.CSS_SELECTOR, "input[name=q]"))[0]
    assert browser.execute_script("return document.characterSet") == "UTF-8"
    assert box.get_attribute("placeholder") == "e.g. 跨境电商"
    box.send_keys(QUERY)
    assert box.get_attribute("value") == QUERY  # typed into the page as Chinese, not mangled
    browser.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
    wait_for(browser, "the results page", lambda d: "q=" in d.current_url)
    wait_for(browser, "the results", lambda d: _summary(d) == "1–2 of 2 stories (4 articles), most relevant first")
    assert browser.title == f"{QUERY} – newsflow search"
    hits = _hits(browser)
    assert hits[0]["title"] in STORY_OUTLETS and hits[1]["title"] == "广州外贸新政出台"
    assert all(h["lang"] == "zh" for h in hits)
    assert set(QUERY) <= set(hits[0]["marked"]) and set(QUERY) <= set(hits[1]["marked"])  # <mark>ed, in the DOM
    assert "广州发布稳外贸措施" in hits[1]["snippet"] or "推进跨境电商发展" in hits[1]["snippet"]
    assert STORY_OUTLETS[hits[0]["title"]] in hits[0]["meta"] and "证券时报" in hits[1]["meta"]
    assert browser.execute_script(_GLYPHS_DIFFER, "跨", "境"), "Chinese renders as boxes: install fonts-noto-cjk"
    assert not browser.execute_script(_GLYPHS_DIFFER, "\u0378", "\u0379")  # unassigned: two equal boxes
    assert browser.find_elements(By.CSS_SELECTOR, "ol.hits mark")
    screenshot(browser, "search-page-chinese-query")

    # Narrow to one outlet with the filter dropdown (the query stays in the box).
    Select(browser.find_element(By.CSS_SELECTOR, "select[name=outlet]")).select_by_value("证券时报")
    browser.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
    wait_for(browser, "the filtered results", lambda d: "outlet=" in d.current_url)
    wait_for(browser, "the filtered summary", lambda d: _summary(d) == "1–1 of 1 articles, most relevant first")
    (only,) = _hits(browser)
    assert only["title"] == "广州外贸新政出台" and "证券时报" in only["meta"] and set(QUERY) <= set(only["marked"])
    assert browser.find_element(By.CSS_SELECTOR, "input[name=q]").get_attribute("value") == QUERY
    chosen = Select(browser.find_element(By.CSS_SELECTOR, "select[name=outlet]")).first_selected_option
    assert chosen.get_attribute("value") == "证券时报"
    screenshot(browser, "search-page-outlet-filter")

    # Without the query, the filter alone lists the outlet's articles newest first.
    box = browser.find_element(By.CSS_SELECTOR, "input[name=q]")
    box.clear()
    browser.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
    wait_for(browser, "the unqueried results", lambda d: "newest first" in d.find_element(By.TAG_NAME, "main").text)
    assert [h["title"] for h in _hits(browser)] == ["科创板开市五周年", "广州外贸新政出台"]
    assert re.search(r"2 articles", browser.find_element(By.CSS_SELECTOR, "p.summary").text)


# Every control and link a keyboard reaches must have a name a screen reader can announce.
_UNNAMED = """
const named = (el) => (el.labels && el.labels.length > 0 && el.labels[0].textContent.trim())
  || (el.getAttribute('aria-label') || '').trim() || (el.textContent || '').trim();
return Array.from(document.querySelectorAll('a, button, select, input:not([type=hidden])'))
  .filter((el) => !named(el)).map((el) => el.outerHTML);
"""


def _active(driver: WebDriver) -> dict[str, str]:
    element = driver.switch_to.active_element
    return {
        "tag": element.tag_name,
        "text": element.text,
        "id": element.get_attribute("id") or "",
        "name": element.get_attribute("name") or "",
        "label": element.get_attribute("aria-label") or "",
    }


def _tab_to(
    driver: WebDriver, wanted: Callable[[dict[str, str]], bool], *, limit: int = 60, backwards: bool = False
) -> dict[str, str]:
    """Press Tab (or Shift+Tab) until the focused element is the wanted one, as a keyboard user would."""
    for _ in range(limit):
        keys = ActionChains(driver)
        (keys.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT) if backwards else keys.send_keys(Keys.TAB))
        keys.perform()
        active = _active(driver)
        if wanted(active):
            return active
    raise AssertionError(f"Tab never reached the element; last focused: {_active(driver)}")


def test_search_page_by_keyboard_with_facet_links_labels_and_local_times(server: str, browser: WebDriver) -> None:
    browser.get(server + "/")
    wait_for(browser, "the query box", lambda d: d.find_elements(By.CSS_SELECTOR, "input[name=q]"))
    assert _active(browser)["name"] == "q"  # the box has the focus: type and press Enter
    ActionChains(browser).send_keys(QUERY, Keys.ENTER).perform()
    wait_for(browser, "the results", lambda d: _summary(d) == "1–2 of 2 stories (4 articles), most relevant first")
    assert browser.execute_script(_UNNAMED) == []

    # Times are the newsroom's (Asia/Shanghai): the stories were published at 08:00 UTC.
    times = browser.find_elements(By.CSS_SELECTOR, "ol.hits .meta time")
    assert [t.text for t in times] == ["2024-07-01 16:00 +08:00", "2024-07-02 16:00 +08:00"]
    assert times[0].get_attribute("datetime") == "2024-07-01T16:00:00+08:00"
    labels = [label.text for label in browser.find_elements(By.CSS_SELECTOR, "form[role=search] label")]
    assert "From (Asia/Shanghai)" in labels[-2] and "To (Asia/Shanghai)" in labels[-1]

    # The facets of the matching stories are links; reach one by keyboard and follow it.
    outlets = browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=facet-outlet] a")
    assert sorted(link.text for link in outlets) == sorted(["21世纪经济报道", "新浪财经", "财联社", "证券时报"])
    _tab_to(browser, lambda active: active["tag"] == "a" and active["text"] == "证券时报")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_for(browser, "the outlet-filtered results", lambda d: _summary(d) == "1–1 of 1 articles, most relevant first")
    assert "outlet=" in browser.current_url
    (only,) = _hits(browser)
    assert only["title"] == "广州外贸新政出台"
    chosen = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=facet-outlet] strong[aria-current=true]")
    assert chosen.text == "证券时报"
    screenshot(browser, "search-page-facet-link")

    # The chosen value links to its removal, announced as such.
    removal = _tab_to(browser, lambda active: active["label"].startswith("Remove the outlet filter"))
    assert removal["label"] == "Remove the outlet filter 证券时报"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_for(
        browser, "all results again", lambda d: _summary(d) == "1–2 of 2 stories (4 articles), most relevant first"
    )

    # The skip link, first on the page, jumps over the form and the facets to the results.
    assert _active(browser)["name"] == "q"  # the new page put the focus in the box again
    skip = _tab_to(browser, lambda active: active["text"] == "Skip to the results", limit=3, backwards=True)
    assert skip["tag"] == "a"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_for(browser, "the focus on the results", lambda d: _active(d)["id"] == "results")


def test_copies_of_one_story_fold_into_its_hit_and_open_from_the_keyboard(server: str, browser: WebDriver) -> None:
    browser.get(server + "/?q=" + QUERY)
    wait_for(browser, "the results", lambda d: _summary(d) == "1–2 of 2 stories (4 articles), most relevant first")
    first = browser.find_elements(By.CSS_SELECTOR, "ol.hits li.hit")[0]
    shown = STORY_OUTLETS[first.find_element(By.CSS_SELECTOR, "h2").text]  # one copy stands for the story
    summary = first.find_element(By.CSS_SELECTOR, "details.story summary")
    assert summary.text == "2 more from other outlets"
    copies = first.find_elements(By.CSS_SELECTOR, "details.story li")
    assert not any(c.is_displayed() for c in copies)  # folded
    # Keyboard only: tab from the query box to the disclosure, open it with Enter.
    box = browser.find_element(By.CSS_SELECTOR, "input[name=q]")
    box.click()
    for _ in range(40):
        active = browser.switch_to.active_element
        if active.tag_name == "summary":
            break
        active.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "2 more from other outlets", (
        "the disclosure is not reachable by Tab"
    )
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(browser, "the copies", lambda d: all(c.is_displayed() for c in copies))
    assert first.find_element(By.CSS_SELECTOR, "details.story").get_attribute("open") is not None
    listed = [c.text for c in copies]
    others = set(STORY_OUTLETS.values()) - {shown}
    assert len(listed) == 2 and all(any(outlet in t for t in listed) for outlet in others)
    screenshot(browser, "search-page-story-open")

    # Every matching copy of the story, one hit each.
    first.find_element(By.PARTIAL_LINK_TEXT, "All 3 matching copies").click()
    wait_for(browser, "the story's copies", lambda d: "story=zh-zones" in d.current_url)
    wait_for(browser, "the copies listed", lambda d: _summary(d) == "1–3 of 3 articles, most relevant first")
    assert browser.find_element(By.CSS_SELECTOR, ".only-story").text.startswith("The copies of one story")
    assert {h["meta"].split(" · ")[0] for h in _hits(browser)} == {"21世纪经济报道", "新浪财经", "财联社"}
