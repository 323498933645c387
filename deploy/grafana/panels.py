"""Panel and dashboard builders shared by dc-sim's dashboards (grafana-foundation-sdk).

Each returns a builder with dc-sim's conventions: every query names the Prometheus data
source through the ``datasource`` variable, legends are tables, sizes fit a 24-column grid.
"""

from __future__ import annotations

from typing import TypeVar

from grafana_foundation_sdk.builders import bargauge, piechart, stat, table, timeseries
from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

#: Every panel's data source: the ``datasource`` variable (provisioned uid ``prometheus``).
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
#: Rate windows: Grafana's own, at least four scrape intervals.
RATE = "$__rate_interval"
#: The label matchers of the VM Performance variables.
VM_SELECTOR = 'platform=~"$platform", cluster=~"$cluster", vm=~"$vm"'

AnyPanel = stat.Panel | timeseries.Panel | table.Panel | bargauge.Panel | piechart.Panel


def query(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> Dataquery:
    """A PromQL target; ``instant`` for tables and single values that need no history."""
    target = Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        target = target.legend_format(legend)
    return target.instant() if instant else target.range()


def steps(*pairs: tuple[float | None, str]) -> gd.ThresholdsConfig:
    """Absolute thresholds: ``(None, colour)`` is the base, then ``(value, colour)`` upwards."""
    return gd.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value=v, color=c) for v, c in pairs])


GOOD_LOW = steps((None, "green"), (1, "red"))


def single(title: str, expr: str, unit: str = "short", thresholds: gd.ThresholdsConfig | None = None) -> stat.Panel:
    """A stat panel showing the last value of ``expr``."""
    panel = (
        stat.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(query(expr))
        .unit(unit)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .height(4)
        .span(4)
    )
    return panel.thresholds(thresholds) if thresholds else panel


def graph(
    title: str, *targets: Dataquery, unit: str = "short", span: int = 12, description: str = ""
) -> timeseries.Panel:
    """A time series panel of ``targets``, its legend a table with the last and max values."""
    panel = (
        timeseries.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .targets(list(targets))
        .unit(unit)
        .legend(
            VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
        .height(8)
        .span(span)
    )
    return panel.description(description) if description else panel


PerSeries = TypeVar("PerSeries", bargauge.Panel, piechart.Panel)


def per_series(panel: PerSeries, title: str, expr: str, legend: str, span: int) -> PerSeries:
    """``panel`` showing each series of ``expr`` now (its last value), named by ``legend``."""
    return (
        panel.title(title)
        .datasource(DATASOURCE)
        .with_target(query(expr, legend, instant=True))
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .height(8)
        .span(span)
    )


def bars(
    title: str, expr: str, legend: str, unit: str, thresholds: gd.ThresholdsConfig, span: int = 12
) -> bargauge.Panel:
    """A horizontal bar gauge, one bar per series of ``expr``."""
    return per_series(bargauge.Panel().unit(unit).thresholds(thresholds), title, expr, legend, span)


def pie(title: str, expr: str, legend: str, span: int = 8) -> piechart.Panel:
    """A pie chart of the series of ``expr`` (shares of a whole)."""
    return per_series(piechart.Panel(), title, expr, legend, span)


def grid(title: str, expr: str, unit: str = "short", span: int = 12) -> table.Panel:
    """A table of the series of ``expr`` now, one row per series."""
    return (
        table.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(query(expr, instant=True).format(PromQueryFormat.TABLE))
        .unit(unit)
        .height(8)
        .span(span)
    )


def label_variable(name: str, label: str, metric: str, title: str) -> gd.QueryVariable:
    """A multi-value variable of ``label``'s values on ``metric`` (``All`` is every value)."""
    return (
        gd.QueryVariable(name)
        .label(title)
        .datasource(DATASOURCE)
        .query(f"label_values({metric}, {label})")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )


def board(uid: str, title: str, description: str, tags: list[str]) -> gd.Dashboard:
    """A dashboard with dc-sim's common settings and the ``datasource`` variable."""
    return (
        gd.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["dcsim", *tags])
        .editable()
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .time("now-1h", "now")
        .refresh("30s")
        .timezone("browser")
        .with_variable(
            gd.DatasourceVariable("datasource")
            .label("Data source")
            .type("prometheus")
            .current(VariableOption(selected=True, text="Prometheus", value="prometheus"))
        )
    )


def with_panels(dashboard: gd.Dashboard, *rows: tuple[str, list[AnyPanel]]) -> gd.Dashboard:
    """``dashboard`` with each ``(row title, panels)`` as a row of panels, numbered from 1
    in order (Grafana links and embeds panels by id)."""
    number = 0
    for title, panels in rows:
        number += 1
        dashboard = dashboard.with_row(gd.Row(title).id(number))
        for panel in panels:
            number += 1
            dashboard = dashboard.with_panel(panel.id(number))
    return dashboard
