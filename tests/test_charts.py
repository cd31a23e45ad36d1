"""The dashboard's SVG bar charts (kiosk.charts): proportional bars, empty series, escaping, valid XML."""
import xml.etree.ElementTree as ET

import pytest

from kiosk.charts import bar_chart, nice_scale

SVG = "{http://www.w3.org/2000/svg}"


def chart(labels, series, **kw):
    args = {"chart_id": "c1", "title": "Loans per month", "desc": "Tools lent each month",
            "x_label": "Month", "y_label": "Loans", **kw}
    return bar_chart(labels=labels, series=series, **args)


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))


def bars(root, css="bar-a") -> list[ET.Element]:
    """The bars of one series (the legend's swatches carry the series' class but not "bar")."""
    return [r for r in root.iter(f"{SVG}rect") if {"bar", css} <= set(r.get("class", "").split())]


def test_bar_heights_are_proportional_to_the_values():
    root = parse(chart(["Jan", "Feb", "Mar", "Apr"], [("Loans", [10, 5, 0, 20])]))
    heights = [float(b.get("height")) for b in bars(root)]
    assert [int(b.get("data-value")) for b in bars(root)] == [10, 5, 0, 20]
    assert heights[2] == 0
    assert heights[0] == pytest.approx(2 * heights[1], rel=1e-3)
    assert heights[3] == pytest.approx(2 * heights[0], rel=1e-3)
    # Every bar stands on the same base line.
    bottoms = {round(float(b.get("y")) + float(b.get("height")), 1) for b in bars(root)}
    assert len(bottoms) == 1


def test_two_series_side_by_side_share_one_scale():
    root = parse(chart(["Jan", "Feb"], [("Opened", [4, 8]), ("Closed", [2, 8])]))
    opened, closed = bars(root, "bar-a"), bars(root, "bar-b")
    assert len(opened) == len(closed) == 2
    assert float(opened[1].get("height")) == pytest.approx(float(closed[1].get("height")))
    assert float(opened[0].get("height")) == pytest.approx(2 * float(closed[0].get("height")))
    # The second series' bar sits right of the first one's, within the same month.
    assert float(closed[0].get("x")) > float(opened[0].get("x"))
    assert float(closed[0].get("x")) < float(opened[1].get("x"))
    legend = [t.text for t in root.iter(f"{SVG}text")]
    assert "Opened" in legend and "Closed" in legend


@pytest.mark.parametrize("series", [[("Loans", [0, 0, 0])], [("Loans", [])], []])
def test_zero_and_empty_series_render_without_dividing_by_zero(series):
    root = parse(chart(["Jan", "Feb", "Mar"], series))
    assert all(float(b.get("height")) == 0 for b in bars(root))
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-tick"]
    assert ticks[0] == "0" and len(ticks) >= 2


def test_no_labels_at_all():
    root = parse(chart([], [("Loans", [])]))
    assert bars(root) == []


def test_labels_and_titles_are_escaped_and_stay_text():
    root = parse(chart(["<b>Jan</b> & co"], [("<script>x</script>", [3])],
                       title='A < B "quoted"', desc="1 < 2", x_label="<i>month</i>"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<b>Jan</b> & co" in texts
    assert "<i>month</i>" in texts
    assert root.find(f"{SVG}title").text == 'A < B "quoted"'
    assert root.find(f"{SVG}desc").text == "1 < 2"
    assert not list(root.iter(f"{SVG}b")) and not list(root.iter(f"{SVG}script"))
    assert bars(root)[0].find(f"{SVG}title").text == "<b>Jan</b> & co · <script>x</script>: 3"


def test_an_image_with_its_title_and_description_for_screen_readers():
    root = parse(chart(["Jan"], [("Loans", [1])], chart_id="chart-loans"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-loans-title chart-loans-desc"
    assert root.find(f"{SVG}title").get("id") == "chart-loans-title"
    assert root.find(f"{SVG}desc").get("id") == "chart-loans-desc"
    assert "style=" not in str(chart(["Jan"], [("Loans", [1])]))  # the CSP forbids inline styles
    axis = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-axis-label"]
    assert axis == ["Month", "Loans"]


def test_the_value_axis_is_round_and_reaches_the_peak():
    assert nice_scale(0) == (4, 1)
    assert nice_scale(3) == (4, 1)
    assert nice_scale(5) == (6, 2)
    assert nice_scale(17) == (20, 5)
    assert nice_scale(230) == (300, 100)
    for peak in (1, 7, 13, 99, 101, 1234):
        top, step = nice_scale(peak)
        assert top >= peak and top % step == 0 and top / step <= 6
