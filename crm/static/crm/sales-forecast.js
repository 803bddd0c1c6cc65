/* Forecast page: the chart (Apache ECharts) drawn from the JSON the page embeds (#forecast-data), the
   scope chooser; quota grid: rows answered with an error or a conflict are shown, not dropped. */
(function () {
  "use strict";

  var PALETTE = ["#2fb344", "#f76707", "#ae3ec9", "#0ca678"];

  function money(value, currency) {
    if (value === null || value === undefined) return "—";
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined, {
        style: "currency", currency: currency, maximumFractionDigits: 0
      }).format(value);
    } catch (error) {
      return Math.round(value).toLocaleString() + " " + currency;
    }
  }

  function compact(value) {
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined, { notation: "compact" }).format(value);
    } catch (error) {
      return String(value);
    }
  }

  function difference(upper, lower) {
    return upper.map(function (value, index) {
      var low = lower[index];
      return value === null || low === null || value === undefined || low === undefined ? null : value - low;
    });
  }

  function hasValues(values) {
    return values.some(function (value) { return value !== null && value !== undefined; });
  }

  function drawChart(element, data) {
    if (!window.echarts) return;
    if (!element.style.height) element.style.height = (element.getAttribute("data-height") || "360") + "px";
    var chart = window.echarts.init(element);
    var labels = data.labels || {};
    var series = [];
    var legend = [labels.history];
    var selected = {};
    var methodsByName = {};

    series.push({
      id: "history", name: labels.history, type: "line", data: data.history, symbol: "circle", symbolSize: 4,
      lineStyle: { width: 2 }, color: "#206bc4"
    });
    if (hasValues(data.pipeline)) {
      legend.push(labels.pipeline);
      series.push({
        id: "pipeline", name: labels.pipeline, type: "bar", data: data.pipeline, barMaxWidth: 14,
        color: "#74b816", itemStyle: { opacity: 0.6 }
      });
    }
    if (hasValues(data.quota)) {
      legend.push(labels.quota);
      series.push({
        id: "quota", name: labels.quota, type: "line", step: "middle", data: data.quota, symbol: "none",
        color: "#d63939", lineStyle: { type: "dotted", width: 2 }
      });
    }
    (data.methods || []).forEach(function (method, index) {
      var color = PALETTE[index % PALETTE.length];
      methodsByName[method.name] = method;
      legend.push(method.name);
      selected[method.name] = !!method.recommended;
      [["95", 0.12], ["80", 0.22]].forEach(function (band) {
        var level = band[0];
        var stack = "band" + level + "-" + method.key;
        series.push({
          id: stack + "-base", name: method.name, type: "line", stack: stack, data: method["lower" + level],
          symbol: "none", lineStyle: { opacity: 0 }, silent: true, color: color
        });
        series.push({
          id: stack + "-width", name: method.name, type: "line", stack: stack,
          data: difference(method["upper" + level], method["lower" + level]),
          symbol: "none", lineStyle: { opacity: 0 }, areaStyle: { opacity: band[1], color: color }, silent: true, color: color
        });
      });
      series.push({
        id: "mean-" + method.key, name: method.name, type: "line", data: method.mean, symbol: "circle", symbolSize: 4,
        color: color, lineStyle: { width: 2, type: method.recommended ? "solid" : "dashed" }
      });
    });

    chart.setOption({
      animation: false,
      grid: { left: 64, right: 24, top: 48, bottom: 72 },
      legend: { data: legend, selected: selected, top: 0, type: "scroll" },
      tooltip: {
        trigger: "axis",
        formatter: function (params) {
          if (!params.length) return "";
          var index = params[0].dataIndex;
          var lines = ["<strong>" + params[0].axisValue + "</strong>"];
          params.forEach(function (item) {
            var id = item.seriesId || "";
            if (id.indexOf("band") === 0 || item.value === null || item.value === undefined) return;
            var text = item.marker + item.seriesName + ": " + money(item.value, data.currency);
            var method = methodsByName[item.seriesName];
            if (method && id.indexOf("mean-") === 0) {
              text += " (" + labels.interval80 + ": " + money(method.lower80[index], data.currency) + " – " +
                money(method.upper80[index], data.currency) + "; " + labels.interval95 + ": " +
                money(method.lower95[index], data.currency) + " – " + money(method.upper95[index], data.currency) + ")";
            }
            lines.push(text);
          });
          return lines.join("<br>");
        }
      },
      xAxis: { type: "category", data: data.months, boundaryGap: true },
      yAxis: { type: "value", axisLabel: { formatter: compact } },
      dataZoom: [
        { type: "inside", startValue: Math.max(0, data.months.length - 48) },
        { type: "slider", startValue: Math.max(0, data.months.length - 48), bottom: 16 }
      ],
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    var element = document.getElementById("forecast-chart");
    var source = document.getElementById("forecast-data");
    if (element && source) {
      try {
        drawChart(element, JSON.parse(source.textContent));
      } catch (error) {
        if (window.console) window.console.error(error);
      }
    }
    // The scope chooser shows the chosen forecast at once; its button stays for keyboards without scripts.
    var chooser = document.querySelector("[data-forecast-scope]");
    if (chooser) {
      var select = chooser.querySelector("select");
      if (select) select.addEventListener("change", function () { chooser.submit(); });
    }
  }

  // A row of the quota grid answered with its errors (422) or the current amounts (409) replaces itself.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var status = event.detail.xhr && event.detail.xhr.status;
    if (target && target.hasAttribute && target.hasAttribute("data-quota-row") && (status === 409 || status === 422)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
