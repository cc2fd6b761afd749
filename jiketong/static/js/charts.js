// ECharts from static vendor, Chinese locale; each [data-chart] element reads its options from a json_script.
// A static file, not an inline script, so the Content-Security-Policy needs no unsafe-inline.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var spec = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    var chart = echarts.init(element, null, {locale: document.documentElement.lang.startsWith("zh") ? "ZH" : "EN"});
    if (spec.scatter) {
      chart.setOption({
        tooltip: {formatter: function (p) { return p.seriesName + ": " + p.value.map(function (v) { return v.toFixed(2); }).join(" / "); }},
        legend: {type: "scroll"},
        xAxis: {type: "value", name: element.dataset.xName, min: "dataMin", max: "dataMax"},
        yAxis: {type: "value", name: element.dataset.yName, min: "dataMin", max: "dataMax"},
        series: spec.series.map(function (s) { return {name: s.name, type: "scatter", symbolSize: 14, data: s.data}; })
      });
      return;
    }
    var option = {
      tooltip: {trigger: "axis"},
      legend: {type: "scroll"},
      grid: {left: 60, right: 60 * Math.max(1, (spec.axes || []).length - 1), bottom: 30, top: 40},
      xAxis: {type: "category", data: spec.labels},
      yAxis: spec.axes || [{type: "value"}],
      series: spec.series.map(function (s) {
        return {name: s.name, type: s.type || "bar", data: s.data, yAxisIndex: s.axis || 0, smooth: true};
      })
    };
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
