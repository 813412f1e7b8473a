"""The relapse view in a real browser (Debian's chromium, headless): the pages ``replay --html``
writes for the fixtures, looked at the way a clinician or an auditor sees them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import chromium, screenshot
from selenium import webdriver
from selenium.webdriver.common.by import By

from service.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SHOWN = ("seed000-p1-late40-mrd-high", "mrd-lt-0.01pct", "no-relapse", "mcode-problem-list-flip",
         "seed000-p1-s3-post-cart")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each fixture's page, written by ``replay --html`` as of the fixture's assessment date."""
    folder = tmp_path_factory.mktemp("views")
    for name in SHOWN:
        assert main(["replay", "--html", str(folder), "--date", "2024-01-31",
                     str(FIXTURES / name / "bundle.json")]) == 0
    return {name: next(folder.glob(f"*{name}_bundle.json.html")) for name in SHOWN}


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        yield driver


def rect(browser: webdriver.Chrome, element: object) -> dict[str, float]:
    box: dict[str, float] = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,"
        " middle: (r.top + r.bottom) / 2, centre: (r.left + r.right) / 2};", element)
    return box


def open_page(browser: webdriver.Chrome, page: Path) -> None:
    browser.set_window_size(1100, 1400)
    browser.get(page.as_uri())


def test_mrd_points_and_threshold_lines_are_drawn_where_they_belong(
        browser: webdriver.Chrome, pages: dict[str, Path]) -> None:
    open_page(browser, pages["seed000-p1-late40-mrd-high"])
    points = browser.find_elements(By.CSS_SELECTOR, "#mrd-chart .mrd-point")
    assert [(p.get_attribute("data-date"), p.get_attribute("data-method")) for p in points] == [
        ("2022-07-20", "flow"), ("2022-08-22", "flow")]
    labels = [p.find_element(By.CSS_SELECTOR, "text").text for p in points]
    assert labels == ["58% flow, 2022-07-20", "0.5% flow, 2022-08-22"]
    lines = {line.get_attribute("data-fraction"): line
             for line in browser.find_elements(By.CSS_SELECTOR, "#mrd-chart .threshold")}
    assert set(lines) == {"0.001", "0.0001"}
    assert lines["0.001"].text == "BFM 10⁻³ · COG 0.1%"
    assert lines["0.0001"].text == "UK ALLR3 10⁻⁴ · I-BFM 10⁻⁴ · COG 0.01%"
    high = rect(browser, lines["0.001"].find_element(By.CSS_SELECTOR, "line"))["middle"]
    low = rect(browser, lines["0.0001"].find_element(By.CSS_SELECTOR, "line"))["middle"]
    assert high < low  # 10⁻³ above 10⁻⁴ on the page
    # a decade on the chart is the same height: 10⁻³→10⁻⁴ and 0.5%→10⁻³ (log 5 ≈ 0.7 decade)
    decade = low - high
    end_block_1 = rect(browser, points[1].find_element(By.CSS_SELECTOR, "circle"))
    assert high - end_block_1["middle"] == pytest.approx(0.699 * decade, rel=0.05)
    window = rect(browser, browser.find_element(By.CSS_SELECTOR, "#mrd-chart .window rect"))
    assert window["left"] < end_block_1["centre"] < window["right"]
    assert not window["left"] < rect(browser, points[0])["centre"] < window["right"]
    screenshot(browser, "view-seed000-p1-late40-mrd-high")


def test_text_alternative_lists_each_value_with_date_method_and_record(
        browser: webdriver.Chrome, pages: dict[str, Path]) -> None:
    open_page(browser, pages["seed000-p1-late40-mrd-high"])
    rows = [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td")]
            for row in browser.find_elements(By.CSS_SELECTOR, "#mrd-table tbody tr")]
    assert rows == [
        ["2022-07-20", "58%", "flow cytometry", "relapse baseline (day -1)",
         "at or above 10⁻³; at or above 10⁻⁴", "Observation/obs-28"],
        ["2022-08-22", "0.5%", "flow cytometry",
         "end of block 1 (day 32) – the value the schemes use",
         "at or above 10⁻³; at or above 10⁻⁴", "Observation/obs-34"]]
    chart = browser.find_element(By.ID, "mrd-chart")
    assert chart.get_attribute("role") == "img"
    assert "listed with their dates, methods and records" in browser.find_element(
        By.ID, "mrd-chart-desc").get_attribute("textContent")
    # the window's dates are said in words as well as shaded
    assert "2022-08-12 to 2022-09-08 (reinduction day 1 = 2022-07-22)" in browser.find_element(
        By.ID, "mrd").text


def test_timeline_shows_diagnosis_therapy_relapses_hsct_car_t_and_radiation(
        browser: webdriver.Chrome, pages: dict[str, Path]) -> None:
    open_page(browser, pages["seed000-p1-s3-post-cart"])
    events = [(e.get_attribute("data-kind"), e.get_attribute("data-date"))
              for e in browser.find_elements(By.CSS_SELECTOR, "#timeline .event")]
    assert events[0] == ("diagnosis", "2019-03-12")
    kinds = [kind for kind, _ in events]
    assert kinds.count("relapse") == 3
    assert {"frontline", "radiation", "hsct", "car-t"} <= set(kinds)
    labels = browser.find_elements(By.CSS_SELECTOR, "#timeline text.event-label")
    boxes = [rect(browser, label) for label in labels]
    for n, a in enumerate(boxes):  # no label is drawn over another
        for b in boxes[n + 1:]:
            assert (a["right"] <= b["left"] or b["right"] <= a["left"]
                    or a["bottom"] <= b["top"] or b["bottom"] <= a["top"])
    assert "Procedure/proc-42" in browser.find_element(By.ID, "timeline-table").text
    screenshot(browser, "view-seed000-p1-s3-post-cart")


def test_less_than_value_is_drawn_as_below_and_said_so(
        browser: webdriver.Chrome, pages: dict[str, Path]) -> None:
    open_page(browser, pages["mrd-lt-0.01pct"])
    points = browser.find_elements(By.CSS_SELECTOR, "#mrd-chart .mrd-point")
    assert [p.get_attribute("data-comparator") for p in points] == ["=", "<"]
    assert points[1].find_elements(By.CSS_SELECTOR, "path")  # a downward triangle, not a dot
    assert not points[1].find_elements(By.CSS_SELECTOR, "circle")
    row = browser.find_elements(By.CSS_SELECTOR, "#mrd-table tbody tr")[1].text
    assert "< 0.01%" in row and "below 10⁻³; below 10⁻⁴" in row


def test_no_relapse_says_so_instead_of_failing(browser: webdriver.Chrome,
                                               pages: dict[str, Path]) -> None:
    open_page(browser, pages["no-relapse"])
    assert "No relapse or refractory ALL is recorded" in browser.find_element(By.ID,
                                                                               "no-relapse").text
    assert "No dated relapse: no reinduction" in browser.find_element(By.ID, "mrd").text
    assert not browser.find_elements(By.ID, "risk-table")


def test_undated_relapse_and_missing_mrd_are_listed_not_placed(
        browser: webdriver.Chrome, pages: dict[str, Path]) -> None:
    open_page(browser, pages["mcode-problem-list-flip"])
    undated = browser.find_element(By.CSS_SELECTOR, "#timeline-table tr.undated").text
    assert "no date recorded (not on the timeline)" in undated and "Relapse" in undated
    assert [e.get_attribute("data-kind") for e in browser.find_elements(
        By.CSS_SELECTOR, "#timeline .event")] == ["diagnosis"]
    assert "No marrow MRD result is recorded" in browser.find_element(By.ID, "mrd").text
    assert not browser.find_elements(By.ID, "mrd-chart")


def test_page_is_offline_and_prints(browser: webdriver.Chrome, pages: dict[str, Path]) -> None:
    open_page(browser, pages["seed000-p1-late40-mrd-high"])
    fetched = browser.execute_script(
        "return [...document.querySelectorAll('script, link, img, iframe, [src], [href]')]"
        ".map(e => e.outerHTML.slice(0, 80))")
    assert fetched == []
    assert browser.execute_script(
        "return performance.getEntriesByType('resource').length") == 0
    pdf = browser.print_page()  # base64 of the printed PDF (A4/Letter, print stylesheet)
    assert len(pdf) > 10_000
    # printed, the chart still fits the page width
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        width = browser.execute_script("return document.documentElement.clientWidth")
        assert rect(browser, browser.find_element(By.ID, "mrd-chart"))["right"] <= width
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
