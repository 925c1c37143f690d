"""The real Airflow UI in headless Chromium, on an Airflow of the tests' own (its sources file is the tests'):
log in as admin, find one `poll__<schedule>` DAG per schedule and `poll_source`; trigger `poll_source` for one
source picked in its Trigger form, watch the run succeed and its task log show the counts; trigger a schedule's
DAG and see each of its sources as a task instance named after it; add a source (on a new schedule) to the
sources file and see it appear, then remove it and see it go, with no restart.

The REST API is used only to tell which run a click created and to cross-check what the UI shows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from pipeline.config import Settings
from pipeline.poll_plan import ONE_SOURCE_DAG, ScheduleGroup, plan
from pipeline.stack import airflow_server
from tests.e2e.browser import chromium, screenshot, wait_for
from tests.e2e.conftest import OwnAirflow

pytestmark = pytest.mark.services

PREFERRED_SOURCE = "harbour-wire"  # small and local; any enabled source would do
RELOAD_EVERY_S = 15.0
COUNTS = re.compile(
    r"(?P<source>\S+): fetched=(?P<fetched>\d+) new=(?P<new>\d+) unchanged=(?P<unchanged>\d+) failed=(?P<failed>\d+)"
)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


@pytest.fixture
def airflow(own_airflow: OwnAirflow) -> Iterator[httpx.Client]:
    """A REST client of the tests' Airflow, with a JWT from /auth/token (the UI's own login)."""
    settings = own_airflow.settings
    password = airflow_server.password(settings)
    assert password, "airflow standalone wrote no admin password"
    base = airflow_server.base_url(settings)
    token = httpx.post(
        f"{base}/auth/token", json={"username": airflow_server.ADMIN_USER, "password": password}, timeout=60
    )
    assert token.status_code in (200, 201), token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    with httpx.Client(base_url=f"{base}/api/v2", headers=headers, timeout=60) as client:
        yield client


def _log_in(driver: WebDriver, settings: Settings) -> None:
    driver.get(airflow_server.base_url(settings) + "/")
    username = wait_for(
        driver, "the login form", lambda d: d.find_elements(By.CSS_SELECTOR, "input[name=username]"), 120
    )
    username[0].send_keys(airflow_server.ADMIN_USER)
    driver.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(airflow_server.password(settings) or "")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(driver, "the home page after login", lambda d: "/auth/login" not in d.current_url and _nav(d), 120)


def _nav(driver: WebDriver) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, "[data-testid=nav-dags-link]")


def _cards(driver: WebDriver) -> dict[str, list[str]]:
    """DAG id -> the tags its card shows, for every card on the DAG list."""
    cards: dict[str, list[str]] = {}
    for card in driver.find_elements(By.CSS_SELECTOR, "[data-testid=dag-card]"):
        for dag_id in card.find_elements(By.CSS_SELECTOR, "[data-testid=dag-id]"):
            tags = card.find_elements(By.CSS_SELECTOR, "a[href^='/dags?tags=']")
            cards[dag_id.text.strip()] = [tag.text.strip() for tag in tags]
    return cards


def _reloading(driver: WebDriver, every_s: float = RELOAD_EVERY_S) -> Callable[[], None]:
    """A function that reloads the page when `every_s` passed since the last reload (the UI's lists do not
    always refresh by themselves)."""
    last = [time.monotonic()]

    def maybe() -> None:
        if time.monotonic() - last[0] > every_s:
            last[0] = time.monotonic()
            driver.refresh()

    return maybe


def _runs(airflow: httpx.Client, dag_id: str) -> set[str]:
    answer = airflow.get(f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 100})
    assert answer.status_code == 200, answer.text
    return {run["dag_run_id"] for run in answer.json()["dag_runs"] if run["run_type"] == "manual"}


def _groups(own: OwnAirflow) -> dict[str, ScheduleGroup]:
    return {group.dag_id: group for group in plan(own.initial)}


def _open_trigger_dialog(driver: WebDriver, base: str, dag_id: str) -> WebElement:
    driver.get(f"{base}/dags/{dag_id}")
    button = wait_for(
        driver,
        "the Trigger button",
        lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=trigger-dag-button]"),
        120,
    )
    button[0].click()
    dialogs = wait_for(
        driver,
        "the Trigger dialog",
        lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "[role=dialog]") if f"Trigger Dag - {dag_id}" in e.text],
    )
    return dialogs[0]


def _suggested_sources(driver: WebDriver) -> list[str]:
    """The source ids the Trigger form of `poll_source` suggests for its `source_id` field."""
    return [
        str(option.get_attribute("value"))
        for option in driver.find_elements(By.CSS_SELECTOR, "datalist#list_source_id option")
    ]


def _confirm(dialog: WebElement) -> None:
    (confirm,) = [b for b in dialog.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Trigger"]
    confirm.click()


def _wait_for_success(driver: WebDriver, base: str, dag_id: str, run_id: str) -> None:
    driver.get(f"{base}/dags/{dag_id}/runs/{run_id}")
    reload = _reloading(driver)

    def run_state(d: WebDriver) -> str | None:
        header = d.find_elements(By.CSS_SELECTOR, "[data-testid=header-card] [data-testid=state-badge]")
        state = header[0].text.strip() if header else ""
        if state == "Failed":
            raise AssertionError(f"{dag_id} run {run_id} failed (see its task logs in the UI)")
        if state != "Success":
            reload()
        return state if state == "Success" else None

    wait_for(driver, f"run {run_id} of {dag_id} to succeed", run_state, 300)


def test_airflow_ui_lists_the_poll_dags_and_polls_one_source_picked_in_the_trigger_form(
    own_airflow: OwnAirflow, browser: WebDriver, airflow: httpx.Client
) -> None:
    settings = own_airflow.settings
    base = airflow_server.base_url(settings)
    groups = _groups(own_airflow)
    _log_in(browser, settings)

    # The DAG list: one card per schedule (tagged newsflow, poll and its source types) and poll_source.
    browser.set_window_size(1400, 1500)
    browser.get(f"{base}/dags")
    reload = _reloading(browser)
    wanted = set(groups) | {ONE_SOURCE_DAG}

    def all_cards(d: WebDriver) -> dict[str, list[str]] | None:
        cards = _cards(d)
        if wanted <= set(cards):
            return cards
        reload()
        return None

    cards = wait_for(browser, "a card for every schedule and poll_source", all_cards, 300)
    for dag_id, group in groups.items():
        assert sorted(cards[dag_id]) == sorted({"newsflow", "poll", *group.types}), dag_id
    assert sorted(cards[ONE_SOURCE_DAG]) == ["newsflow", "poll"]
    screenshot(browser, "airflow-dag-list")
    browser.set_window_size(1400, 1000)

    # poll_source: the form suggests every enabled source; pick one and trigger.
    source_id = PREFERRED_SOURCE
    before = _runs(airflow, ONE_SOURCE_DAG)
    dialog = _open_trigger_dialog(browser, base, ONE_SOURCE_DAG)
    assert "source_id" in dialog.text and "force" in dialog.text and "dry_run" in dialog.text  # the DAG's params
    assert sorted(_suggested_sources(browser)) == sorted(s for g in groups.values() for s in g.source_ids)
    field = dialog.find_element(By.CSS_SELECTOR, "input[name=element_source_id]")
    field.send_keys(source_id)
    screenshot(browser, "airflow-trigger-dialog")
    _confirm(dialog)
    new_runs = wait_for(browser, "the triggered run", lambda _d: _runs(airflow, ONE_SOURCE_DAG) - before, 120)
    assert len(new_runs) == 1, new_runs
    (run_id,) = new_runs
    run = airflow.get(f"/dags/{ONE_SOURCE_DAG}/dagRuns/{run_id}").json()
    assert run["conf"]["source_id"] == source_id and run["triggering_user_name"] == airflow_server.ADMIN_USER

    _wait_for_success(browser, base, ONE_SOURCE_DAG, run_id)
    screenshot(browser, "airflow-run-success")

    # The task log shows the poll's counts, the same the task returned.
    browser.get(f"{base}/dags/{ONE_SOURCE_DAG}/runs/{run_id}/tasks/poll")

    def counts_line(driver: WebDriver) -> re.Match[str] | None:
        for row in driver.find_elements(
            By.CSS_SELECTOR, "[data-testid=virtualized-list] [data-testid^=virtualized-item]"
        ):
            match = COUNTS.search(row.text)
            if match and match["source"] == source_id:
                return match
        return None

    shown_counts = wait_for(browser, "the counts in the task log", counts_line, 120)
    screenshot(browser, "airflow-task-log")
    returned = airflow.get(f"/dags/{ONE_SOURCE_DAG}/dagRuns/{run_id}/taskInstances/poll/xcomEntries/return_value")
    counts = {name: int(shown_counts[name]) for name in ("fetched", "new", "unchanged", "failed")}
    assert counts == {name: returned.json()["value"][name] for name in counts}
    assert counts["failed"] == 0 and counts["fetched"] >= 1


def test_a_schedule_dag_shows_each_source_as_a_task_instance_named_after_it(
    own_airflow: OwnAirflow, browser: WebDriver, airflow: httpx.Client
) -> None:
    settings = own_airflow.settings
    base = airflow_server.base_url(settings)
    group = max(_groups(own_airflow).values(), key=lambda g: len(g.source_ids))
    assert len(group.source_ids) >= 2
    _log_in(browser, settings)

    before = _runs(airflow, group.dag_id)
    _confirm(_open_trigger_dialog(browser, base, group.dag_id))
    (run_id,) = wait_for(browser, "the triggered run", lambda _d: _runs(airflow, group.dag_id) - before, 120)
    _wait_for_success(browser, base, group.dag_id, run_id)

    # The mapped task's page lists one instance per source, each named after its source.
    browser.get(f"{base}/dags/{group.dag_id}/runs/{run_id}/tasks/poll/mapped")
    reload = _reloading(browser)

    def named(d: WebDriver) -> bool:
        text = d.find_element(By.TAG_NAME, "body").text
        if all(source_id in text for source_id in group.source_ids):
            return True
        reload()
        return False

    wait_for(browser, f"the sources {group.source_ids} on the mapped task's page", named, 120)
    screenshot(browser, "airflow-mapped-sources")
    answer = airflow.get(f"/dags/{group.dag_id}/dagRuns/{run_id}/taskInstances", params={"task_id": "poll"}).json()
    assert sorted(t["rendered_map_index"] for t in answer["task_instances"]) == sorted(group.source_ids)
    assert {t["state"] for t in answer["task_instances"]} == {"success"}


def test_a_source_added_to_the_file_appears_and_a_removed_one_goes_without_a_restart(
    own_airflow: OwnAirflow, browser: WebDriver, airflow: httpx.Client
) -> None:
    settings = own_airflow.settings
    base = airflow_server.base_url(settings)
    bundled = own_airflow.initial
    feed = next(s for s in bundled if s["type"] == "feed")
    added = {**feed, "id": "added-feed", "schedule": "7m"}  # a schedule no other source has
    _log_in(browser, settings)
    pid = airflow_server.process(settings).pid()

    def offered(source_id: str) -> bool | None:
        """Whether poll_source's Trigger form suggests `source_id` (the dialog is opened afresh each time)."""
        _open_trigger_dialog(browser, base, ONE_SOURCE_DAG)
        time.sleep(1)  # the form renders its fields after the dialog opens
        return source_id in _suggested_sources(browser)

    try:
        own_airflow.write_sources([*bundled, added])
        browser.get(f"{base}/dags")
        reload = _reloading(browser, 10)

        def card(present: bool) -> bool:
            if ("poll__every_7m" in _cards(browser)) is present:
                return True
            reload()
            return False

        wait_for(browser, "the new schedule's DAG on the list", lambda _d: card(True), 240)
        screenshot(browser, "airflow-source-added")
        wait_for(browser, "poll_source to offer the new source", lambda _d: offered("added-feed") is True, 120)
    finally:
        own_airflow.write_sources(bundled)

    browser.get(f"{base}/dags")
    reload = _reloading(browser, 10)
    wait_for(browser, "the removed schedule's DAG to leave the list", lambda _d: card(False), 240)
    wait_for(browser, "poll_source to stop offering it", lambda _d: offered("added-feed") is False, 120)
    assert airflow_server.process(settings).pid() == pid  # the same server all along
