"""The real Airflow UI of the local stack, in headless Chromium: log in as admin (the simple auth
manager's generated password), find one `poll__<id>` DAG with its tags for every enabled source,
trigger one from its Trigger dialog, and watch the run succeed and its task log show the counts.

The REST API is used only to tell which run the click created and to cross-check what the UI shows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from pipeline.config import Settings
from pipeline.sources.catalog import SourceConfig, load_sources
from pipeline.stack import airflow_server
from tests.e2e.browser import chromium, screenshot, wait_for

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
def airflow(stack: Settings) -> Iterator[httpx.Client]:
    """A REST client of the stack's Airflow, with a JWT from /auth/token (the UI's own login)."""
    password = airflow_server.password(stack)
    assert password, "airflow standalone wrote no admin password"
    base = airflow_server.base_url(stack)
    token = httpx.post(
        f"{base}/auth/token", json={"username": airflow_server.ADMIN_USER, "password": password}, timeout=30
    )
    assert token.status_code in (200, 201), token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    with httpx.Client(base_url=f"{base}/api/v2", headers=headers, timeout=30) as client:
        yield client


def _log_in(driver: WebDriver, settings: Settings) -> None:
    driver.get(airflow_server.base_url(settings) + "/")
    username = wait_for(driver, "the login form", lambda d: d.find_elements(By.CSS_SELECTOR, "input[name=username]"))
    username[0].send_keys(airflow_server.ADMIN_USER)
    driver.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(airflow_server.password(settings) or "")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(driver, "the home page after login", lambda d: "/auth/login" not in d.current_url and _nav(d))


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


def _manual_runs(airflow: httpx.Client, dag_id: str) -> set[str]:
    """Ids of the DAG's manually triggered runs (the scheduler's own runs may come and go meanwhile)."""
    answer = airflow.get(f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 100})
    assert answer.status_code == 200, answer.text
    return {run["dag_run_id"] for run in answer.json()["dag_runs"] if run["run_type"] == "manual"}


def _enabled(settings: Settings) -> list[SourceConfig]:
    enabled = [source for source in load_sources(settings.sources) if source.enabled]
    assert enabled, f"no enabled source in {settings.sources}"
    return enabled


def test_airflow_ui_lists_every_source_and_runs_a_poll_from_the_trigger_dialog(
    stack: Settings, browser: WebDriver, airflow: httpx.Client
) -> None:
    base = airflow_server.base_url(stack)
    sources = _enabled(stack)
    _log_in(browser, stack)

    # The DAG list: one poll__<id> card per enabled source, tagged newsflow, its outlet and its category.
    browser.set_window_size(1400, 1500)
    browser.get(f"{base}/dags")
    wanted = {f"poll__{source.id}": source for source in sources}
    cards = wait_for(
        browser, "a card for every source", lambda d: (c := _cards(d)) and set(wanted) <= set(c) and c, 120
    )
    for dag_id, source in wanted.items():
        assert sorted(cards[dag_id]) == sorted({"newsflow", source.outlet, source.category}), dag_id
    shown = browser.find_element(By.CSS_SELECTOR, "[data-testid=dag-card]").text
    assert shown  # cards have rendered text, not just empty shells
    screenshot(browser, "airflow-dag-list")
    browser.set_window_size(1400, 1000)

    # Trigger one poll DAG from its page: the Trigger button, then the dialog's Trigger.
    source = wanted.get(f"poll__{PREFERRED_SOURCE}") or sources[0]
    dag_id = f"poll__{source.id}"
    before = _manual_runs(airflow, dag_id)
    browser.get(f"{base}/dags/{dag_id}")
    button = wait_for(
        browser, "the Trigger button", lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=trigger-dag-button]")
    )
    button[0].click()
    dialog = wait_for(
        browser,
        "the Trigger dialog",
        lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "[role=dialog]") if f"Trigger Dag - {dag_id}" in e.text],
    )[0]
    assert "Single Run" in dialog.text and "force" in dialog.text and "dry_run" in dialog.text  # the DAG's params
    (confirm,) = [b for b in dialog.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Trigger"]
    screenshot(browser, "airflow-trigger-dialog")
    confirm.click()
    new_runs = wait_for(browser, "the triggered run", lambda _d: _manual_runs(airflow, dag_id) - before, 60)
    assert len(new_runs) == 1, new_runs
    (run_id,) = new_runs
    assert run_id.startswith("manual__"), run_id

    # The run's page shows success (reloaded now and then in case auto-refresh stalls).
    browser.get(f"{base}/dags/{dag_id}/runs/{run_id}")

    reloaded = [time.monotonic()]

    def run_state(driver: WebDriver) -> str | None:
        header = driver.find_elements(By.CSS_SELECTOR, "[data-testid=header-card] [data-testid=state-badge]")
        state = header[0].text.strip() if header else ""
        if state == "Failed":
            raise AssertionError(f"{dag_id} run {run_id} failed (see its task log in the UI)")
        if state != "Success" and time.monotonic() - reloaded[-1] > RELOAD_EVERY_S:
            reloaded.append(time.monotonic())
            driver.refresh()
        task = driver.find_elements(By.CSS_SELECTOR, "[data-testid=table-cell-state]")  # the poll task's row
        both = state == "Success" and bool(task) and task[0].text.strip() == "Success"
        return state if both else None

    wait_for(browser, f"run {run_id} to succeed", run_state, 180)
    assert run_id in browser.find_element(By.CSS_SELECTOR, "[data-testid=header-card]").text
    screenshot(browser, "airflow-run-success")
    assert "Manual" in browser.find_element(By.CSS_SELECTOR, "[data-testid=header-card]").text
    run = airflow.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()
    assert (run["state"], run["triggering_user_name"]) == ("success", airflow_server.ADMIN_USER)  # our click

    # The task log shows the poll's counts, the same the task returned.
    browser.get(f"{base}/dags/{dag_id}/runs/{run_id}/tasks/poll")

    def counts_line(driver: WebDriver) -> re.Match[str] | None:
        for row in driver.find_elements(
            By.CSS_SELECTOR, "[data-testid=virtualized-list] [data-testid^=virtualized-item]"
        ):
            match = COUNTS.search(row.text)
            if match and match["source"] == source.id:
                return match
        return None

    shown_counts = wait_for(browser, "the counts in the task log", counts_line, 90)
    screenshot(browser, "airflow-task-log")
    returned = airflow.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/poll/xcomEntries/return_value").json()
    counts = {name: int(shown_counts[name]) for name in ("fetched", "new", "unchanged", "failed")}
    assert counts == {name: returned["value"][name] for name in counts}
    assert counts["failed"] == 0 and counts["fetched"] >= 1
