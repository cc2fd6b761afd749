// The 360 page's key-person map (关键人图谱): an ECharts graph of the customer's contacts and how they relate.
// Each [data-keyperson-map] element reads its data from the json_script it names (customers.keypersons.map_data):
// persons by name, title and role (never a mobile or other personal data), links (reports to, influences),
// our counterpart, when they were last met. A static file, so the Content-Security-Policy needs no unsafe-inline.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-keyperson-map]").forEach(function (element) {
    var data = JSON.parse(document.getElementById(element.dataset.keypersonMap).textContent);
    var labels = data.labels;
    var chart = echarts.init(element, null, {locale: document.documentElement.lang.startsWith("zh") ? "ZH" : "EN"});
    var categories = [
      {name: labels.decider, itemStyle: {color: "#0d6efd"}},
      {name: labels.others, itemStyle: {color: "#20c997"}},
      {name: labels.left, itemStyle: {color: "#ced4da"}}
    ];
    var nodes = data.nodes.map(function (n) {
      var category = n.left ? 2 : (n.decider ? 0 : 1);
      return {
        id: n.id,
        name: n.name,
        category: category,
        symbolSize: n.decider ? 46 : (n.key_person ? 36 : 28),
        itemStyle: n.unmet ? {borderColor: "#dc3545", borderWidth: 4} : (n.left ? {opacity: 0.6} : {}),
        label: {show: true, position: "bottom", formatter: n.counterpart ? n.name + "\n↔ " + n.counterpart : n.name,
                color: n.left ? "#adb5bd" : "#212529", lineHeight: 16},
        person: n
      };
    });
    var links = data.links.map(function (l) {
      return {
        source: l.source, target: l.target, kind: l.kind,
        label: {show: true, formatter: l.label, fontSize: 10},
        lineStyle: l.kind === "reports_to" ? {width: 2, color: "#495057"} : {type: "dashed", color: "#0d6efd"}
      };
    });
    chart.setOption({
      tooltip: {
        formatter: function (p) {
          if (p.dataType !== "node") { return p.data.label.formatter; }
          var n = p.data.person;
          var lines = [n.name + (n.title ? " · " + n.title : "") + (n.role ? " · " + n.role : "")];
          if (n.counterpart) { lines.push(labels.counterpart + ": " + n.counterpart); }
          lines.push(labels.last_met + ": " + (n.last_met || labels.never_met));
          if (n.unmet) { lines.push(labels.unmet); }
          if (n.left) { lines.push(labels.left); }
          return lines.map(function (line) { return echarts.format.encodeHTML(line); }).join("<br>");
        }
      },
      legend: [{data: categories.map(function (c) { return c.name; })}],
      series: [{
        type: "graph", layout: "force", roam: true, draggable: true,
        force: {repulsion: 320, edgeLength: [90, 160]},
        edgeSymbol: ["none", "arrow"], edgeSymbolSize: 9,
        categories: categories, data: nodes, links: links
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
