// dashboard.js - the five charts of the reference clickstream dashboard,
// drawn with uPlot from the windows the dashboard sink keeps (api/windows),
// polled every `refreshMs` (see the plugin's README for why polling).
//
// Every chart's series are also written, exactly as handed to uPlot, into
// <script id="chart-data" type="application/json">, so that a test (or a
// script) can read what the page shows from the DOM.
(function () {
  "use strict";

  var COLORS = ["#2456b3", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#e67700", "#495057"];

  // The reference's visualizations (conf/dashboards.ndjson), one point per window.
  var CHARTS = [
    { id: "sessions", title: "Average user session count",
      note: "user_session_counts.userSessionCount: sessions that ended in the window" },
    { id: "withCheckout", title: "Average user session count with order checkout",
      note: "user_session_counts.userSessionCountWithOrderCheckout" },
    { id: "percent", title: "Percent of sessions with a buy",
      note: "user_session_counts.percentSessionswithBuy" },
    { id: "checkout", title: "Average order checkout event count",
      note: "user_session_details.orderCheckoutEventCount, averaged over the sessions that ended in the window" },
    { id: "departments", title: "Department counts",
      note: "departments_count.departmentCount per window, the departments with the highest average" }
  ];

  var plots = {};     // id -> {u: uPlot, labels: "a|b"}
  var etag = null;
  var refreshMs = 2000;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function setStatus(text, error) {
    var s = document.getElementById("status");
    s.textContent = text;
    s.className = error ? "error" : "";
  }

  function fmtTime(ms) {
    return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  // The departments shown: the `top` with the highest average count over the
  // windows that have them (ties by name), as the reference's terms
  // aggregation (ordered by the average, size 5); 0 = all.
  function topDepartments(data) {
    var sum = {}, n = {};
    data.windows.forEach(function (w) {
      w.departments.forEach(function (d) {
        sum[d[0]] = (sum[d[0]] || 0) + d[1];
        n[d[0]] = (n[d[0]] || 0) + 1;
      });
    });
    var ids = Object.keys(sum).map(Number);
    ids.sort(function (a, b) {
      var da = sum[a] / n[a], db = sum[b] / n[b];
      if (da !== db) return db - da;
      var na = data.departments[a], nb = data.departments[b];
      return na < nb ? -1 : na > nb ? 1 : 0;
    });
    var top = data.departmentsTop;
    return top > 0 ? ids.slice(0, top) : ids;
  }

  // {id: {x: [...], series: [{label, values}]}} from the data.
  function buildSeries(data) {
    var W = data.windows, out = {};
    function fromCounts(field, label) {
      var x = [], y = [];
      W.forEach(function (w) {
        if (w.counts) { x.push(w.end / 1000); y.push(w.counts[field]); }
      });
      return { x: x, series: [{ label: label, values: y }] };
    }
    out.sessions = fromCounts("sessions", "sessions");
    out.withCheckout = fromCounts("withCheckout", "sessions with checkout");
    out.percent = fromCounts("percent", "% with buy");
    var cx = [], cy = [];
    W.forEach(function (w) {
      if (w.checkout) { cx.push(w.end / 1000); cy.push(w.checkout.sum / w.checkout.sessions); }
    });
    out.checkout = { x: cx, series: [{ label: "checkout events per session", values: cy }] };
    var ids = topDepartments(data), dx = [], rows = [];
    W.forEach(function (w) {
      if (w.departments.length) { dx.push(w.end / 1000); rows.push(w.departments); }
    });
    out.departments = {
      x: dx,
      series: ids.map(function (id) {
        return {
          label: data.departments[id],
          values: rows.map(function (r) {
            for (var i = 0; i < r.length; i++) if (r[i][0] === id) return r[i][1];
            return null;
          })
        };
      })
    };
    return out;
  }

  function plotWidth(card) {
    return Math.max(300, card.clientWidth - 24);
  }

  function draw(chart, s) {
    var card = document.getElementById("card-" + chart.id);
    var box = card.querySelector(".plot");
    var labels = s.series.map(function (x) { return x.label; }).join("|");
    var uData = [s.x].concat(s.series.map(function (x) { return x.values; }));
    var p = plots[chart.id];
    if (!s.x.length) {
      if (p) { p.u.destroy(); delete plots[chart.id]; }
      box.textContent = "";
      box.appendChild(el("div", "empty", "no window yet"));
      return;
    }
    if (p && p.labels === labels) {
      p.u.setData(uData);
      return;
    }
    if (p) p.u.destroy();
    box.textContent = "";
    var opts = {
      width: plotWidth(card),
      height: 220,
      scales: { x: { time: true } },
      series: [{ label: "window end" }].concat(s.series.map(function (x, i) {
        return { label: x.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true,
                 points: { show: true, size: 5 } };
      })),
      axes: [{}, { size: 56 }],
      legend: { live: true }
    };
    plots[chart.id] = { u: new uPlot(opts, uData, box), labels: labels };
  }

  function render(data) {
    refreshMs = data.refreshMs || refreshMs;
    var all = buildSeries(data), exposed = [];
    CHARTS.forEach(function (c) {
      var s = all[c.id];
      draw(c, s);
      exposed.push({ id: c.id, title: c.title, x: s.x, series: s.series });
    });
    document.getElementById("chart-data").textContent =
      JSON.stringify({ version: data.version, records: data.records, charts: exposed });
    var W = data.windows;
    if (!W.length) {
      setStatus("waiting for the first window: sessions close when the watermark (20 s behind the newest " +
                "event) passes them, windows when it passes their end");
    } else {
      setStatus(W.length + " windows, the last ending " + fmtTime(W[W.length - 1].end) + " \u00b7 " +
                (data.records - data.ignored) + " documents" +
                (data.ignored ? " (" + data.ignored + " other records ignored)" : "") +
                " \u00b7 updated " + new Date().toLocaleTimeString());
    }
    document.documentElement.setAttribute("data-version", String(data.version));
  }

  function poll() {
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch("api/windows", { cache: "no-store", headers: headers }).then(function (r) {
      if (r.status === 304) return null;
      if (!r.ok) throw new Error("HTTP " + r.status);
      etag = r.headers.get("ETag");
      return r.json();
    }).then(function (data) {
      if (data) render(data);
    }).catch(function (e) {
      setStatus("the pipeline does not answer (" + e.message + "); retrying every " +
                Math.round(refreshMs / 1000) + " s", true);
    }).then(function () {
      setTimeout(poll, refreshMs);
    });
  }

  var main = document.getElementById("charts");
  CHARTS.forEach(function (c) {
    var card = el("section", "card");
    card.id = "card-" + c.id;
    card.appendChild(el("h2", null, c.title));
    card.appendChild(el("p", null, c.note));
    card.appendChild(el("div", "plot"));
    main.appendChild(card);
  });
  window.addEventListener("resize", function () {
    Object.keys(plots).forEach(function (id) {
      var card = document.getElementById("card-" + id);
      plots[id].u.setSize({ width: plotWidth(card), height: 220 });
    });
  });
  poll();
})();
