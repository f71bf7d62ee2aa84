/* Dashboard charts: read the JSON the server embedded (#dashboard-data) and draw it with
   plotly.js. Metric and dimension selectors redraw from that data without a round trip;
   everything else (period, filters, comparison) reloads the body through htmx. */
(function () {
  "use strict";

  const COLORS = {
    spend: "#4f46e5", revenue: "#0f9f6e", previous: "#a5a9b8", grid: "#eceef4", text: "#5d6474",
    platforms: { meta: "#1877f2", instagram: "#d62976", google: "#f4b400", tiktok: "#111827",
      linkedin: "#0a66c2", x: "#6b7280", snapchat: "#eab308", pinterest: "#e60023" },
  };
  const MONEY = new Set(["spend", "revenue", "cpc", "cpm", "cpa"]);
  const PERCENT = new Set(["ctr", "cvr"]);

  function formatter(metric, currency) {
    if (MONEY.has(metric)) {
      const f = new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: metric === "spend" || metric === "revenue" ? 0 : 2 });
      return (v) => (v == null ? "—" : f.format(v));
    }
    if (PERCENT.has(metric)) return (v) => (v == null ? "—" : (v * 100).toFixed(2) + "%");
    if (metric === "roas") return (v) => (v == null ? "—" : v.toFixed(2) + "×");
    const f = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
    return (v) => (v == null ? "—" : f.format(v));
  }

  function tickFormat(metric) {
    if (PERCENT.has(metric)) return ".1%";
    if (metric === "roas") return ".2f";
    return "~s";
  }

  function baseLayout(extra) {
    return Object.assign({
      margin: { l: 56, r: 16, t: 8, b: 36 },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: COLORS.text },
      xaxis: { gridcolor: COLORS.grid, zeroline: false },
      yaxis: { gridcolor: COLORS.grid, zeroline: false, rangemode: "tozero" },
      legend: { orientation: "h", y: 1.12, x: 0 },
      hoverlabel: { bgcolor: "#fff", bordercolor: "#e3e6ee", font: { color: "#1b1f2a" } },
      hovermode: "x unified",
    }, extra || {});
  }

  const CONFIG = { displayModeBar: false, responsive: true };

  function draw(id, traces, layout, metric) {
    const node = document.getElementById(id);
    if (!node || !window.Plotly) return;
    window.Plotly.react(node, traces, layout, CONFIG);
    node.dataset.rendered = metric || "yes";
  }

  function dataOf() {
    const node = document.getElementById("dashboard-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function selected(name, fallback) {
    const el = document.querySelector(`select[name="${name}"]`);
    return el ? el.value : fallback;
  }

  function revenueSpend(d) {
    const s = d.series;
    draw("chart-revenue-spend", [
      { x: s.dates, y: s.current.revenue, name: "Revenue", type: "scatter", mode: "lines", fill: "tozeroy",
        line: { color: COLORS.revenue, width: 2, shape: "spline", smoothing: 0.4 }, fillcolor: "rgba(15,159,110,.14)",
        hovertemplate: "%{y:,.0f}<extra>Revenue</extra>" },
      { x: s.dates, y: s.current.spend, name: "Spend", type: "scatter", mode: "lines", fill: "tozeroy",
        line: { color: COLORS.spend, width: 2, shape: "spline", smoothing: 0.4 }, fillcolor: "rgba(79,70,229,.16)",
        hovertemplate: "%{y:,.0f}<extra>Spend</extra>" },
    ], baseLayout({ yaxis: { gridcolor: COLORS.grid, tickformat: "~s", rangemode: "tozero", title: { text: d.currency, font: { size: 11 } } } }), "revenue-spend");
  }

  function platforms(d) {
    if (!d.platforms) return;
    const metric = selected("platform_metric", d.platform_metric);
    const values = d.platforms[metric];
    const fmt = formatter(metric, d.currency);
    const order = values.map((v, i) => i).sort((a, b) => (values[b] ?? -1) - (values[a] ?? -1));
    draw("chart-platforms", [{
      type: "bar", orientation: "h",
      y: order.map((i) => d.platforms.names[i]), x: order.map((i) => values[i]),
      marker: { color: order.map((i) => COLORS.platforms[d.platforms.keys[i]] || COLORS.spend) },
      text: order.map((i) => fmt(values[i])), textposition: "auto", cliponaxis: false,
      hovertemplate: "%{y}: %{text}<extra></extra>",
    }], baseLayout({ margin: { l: 96, r: 16, t: 8, b: 30 }, hovermode: "closest",
      yaxis: { autorange: "reversed", gridcolor: "rgba(0,0,0,0)" },
      xaxis: { gridcolor: COLORS.grid, tickformat: tickFormat(metric), rangemode: "tozero" } }), metric);
  }

  function audience(d) {
    if (!d.audience_data) return;
    const dimension = selected("audience", d.audience);
    const a = d.audience_data[dimension];
    const node = document.getElementById("chart-audience");
    if (!a || !a.names.length) {
      if (node) { if (window.Plotly) window.Plotly.purge(node); node.innerHTML = '<p class="chart-empty">No audience breakdown was reported for this period.</p>'; node.dataset.rendered = dimension; }
      return;
    }
    if (node && node.querySelector(".chart-empty")) node.innerHTML = "";
    draw("chart-audience", [
      { type: "bar", x: a.names, y: a.spend, name: "Spend", marker: { color: COLORS.spend },
        hovertemplate: "%{x}: %{y:,.0f}<extra>Spend</extra>" },
      { type: "scatter", mode: "lines+markers", x: a.names, y: a.roas, name: "ROAS", yaxis: "y2",
        line: { color: COLORS.revenue, width: 2 }, marker: { size: 7 }, hovertemplate: "%{y:.2f}×<extra>ROAS</extra>" },
    ], baseLayout({ hovermode: "x unified",
      yaxis: { gridcolor: COLORS.grid, tickformat: "~s", rangemode: "tozero" },
      yaxis2: { overlaying: "y", side: "right", rangemode: "tozero", showgrid: false, tickformat: ".1f", ticksuffix: "×" },
      margin: { l: 56, r: 44, t: 8, b: 40 } }), dimension);
  }

  function trend(d) {
    const metric = selected("metric", d.metric);
    const s = d.series;
    const fmt = formatter(metric, d.currency);
    const traces = [{
      x: s.dates, y: s.current[metric], name: d.labels[metric], type: "scatter", mode: "lines+markers",
      line: { color: COLORS.spend, width: 2.5 }, marker: { size: 4 }, connectgaps: false,
      customdata: s.current[metric].map(fmt), hovertemplate: "%{customdata}<extra>" + d.labels[metric] + "</extra>",
    }];
    if (s.previous) {
      traces.push({
        x: s.dates, y: s.previous[metric], name: "Previous period", type: "scatter", mode: "lines",
        line: { color: COLORS.previous, width: 1.5, dash: "dot" }, connectgaps: false,
        customdata: s.previous[metric].map(fmt), hovertemplate: "%{customdata}<extra>Previous</extra>",
      });
    }
    draw("chart-trend", traces, baseLayout({ yaxis: { gridcolor: COLORS.grid, tickformat: tickFormat(metric), rangemode: "tozero" } }), metric);
  }

  function funnel(d) {
    const f = d.funnel;
    const pct = (v) => (v == null ? "—" : (v * 100).toFixed(2) + "%");
    const values = [f.impressions, f.clicks, f.conversions];
    const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
    // Stages differ by orders of magnitude; widths follow log10 so every stage stays
    // visible, while labels and hovers give the real numbers.
    draw("chart-funnel", [{
      type: "funnel", y: ["Impressions", "Clicks", "Conversions"],
      x: values.map((v) => Math.log10(Math.max(v, 0) + 1) + 0.3),
      customdata: values.map((v) => whole.format(v)),
      texttemplate: "%{customdata}", textposition: "inside", textfont: { color: ["#1b1f2a", "#fff", "#fff"] },
      marker: { color: ["#c7d2fe", "#818cf8", "#4f46e5"] }, connector: { line: { color: "#e3e6ee" }, fillcolor: "#eef0ff" },
      hovertemplate: "%{y}: %{customdata}<extra></extra>",
    }], baseLayout({ margin: { l: 88, r: 8, t: 8, b: 56 }, hovermode: "closest", xaxis: { visible: false },
      annotations: [{ xref: "paper", yref: "paper", x: 0.5, y: -0.16, showarrow: false,
        text: `CTR <b>${pct(f.ctr)}</b>   ·   Conversion rate <b>${pct(f.cvr)}</b>`, font: { size: 12, color: COLORS.text } }] }), "funnel");
  }

  function renderAll() {
    const d = dataOf();
    if (!d) return;
    [revenueSpend, funnel, platforms, audience, trend].forEach((fn) => {
      try { fn(d); } catch (err) { console.error(err); }
    });
    const period = document.getElementById("dash-period");
    const subtitle = document.getElementById("dash-subtitle");
    if (period && subtitle) subtitle.textContent = period.dataset.period + " · all figures in " + d.currency;
    syncLinks();
  }

  // Links (exports, report, save) carry the page's current choices.
  function currentQuery() {
    const form = document.getElementById("dashboard-controls");
    if (!form) return "";
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (key === "compare" && value === "0" && form.querySelector('input[name="compare"][type="checkbox"]').checked) continue;
      params.append(key, value);
    }
    return params.toString();
  }

  function syncLinks() {
    const query = currentQuery();
    document.querySelectorAll("a[data-export], a[data-report]").forEach((a) => {
      const url = new URL(a.href, window.location.origin);
      const keep = {};
      ["breakdown", "file_format"].forEach((k) => { if (url.searchParams.has(k)) keep[k] = url.searchParams.get(k); });
      const next = new URLSearchParams(query);
      Object.entries(keep).forEach(([k, v]) => next.set(k, v));
      a.href = url.pathname + "?" + next.toString();
    });
    const save = document.getElementById("save-query");
    if (save) save.value = query;
  }

  // Capture phase: runs before htmx sends the form, so the custom range is included.
  document.addEventListener("change", (event) => {
    const el = event.target;
    if (el.name === "preset") {
      const custom = el.value === "custom";
      const range = document.querySelector(".custom-range");
      range.hidden = !custom;
      range.querySelectorAll("input").forEach((i) => { i.disabled = !custom; });
      document.querySelectorAll(".preset").forEach((p) => p.classList.toggle("is-active", p.contains(el)));
    }
  }, true);

  document.addEventListener("change", (event) => {
    const el = event.target;
    if (!el.matches || !el.matches("select.chart-select")) return;
    const d = dataOf();
    if (!d) return;
    ({ platforms, audience, trend })[el.dataset.chart](d);
    const url = new URL(window.location.href);
    url.search = currentQuery();
    window.history.replaceState(null, "", url);
    syncLinks();
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-direction]");
    if (!button) return;
    const select = document.querySelector("select[name=sort]");
    Array.from(select.options).forEach((o) => { o.value = button.dataset.direction + o.value.replace(/^-/, ""); });
    select.dispatchEvent(new Event("change", { bubbles: true }));
  });

  document.addEventListener("DOMContentLoaded", renderAll);
  // After any swap (the body, the campaign table) redraw from the data now in the page.
  document.addEventListener("htmx:afterSettle", renderAll);
  window.addEventListener("load", renderAll);
})();

/* New numbers from a sync arrive over the notifications WebSocket as "live:metrics.updated"
   (one per ad account); reload the dashboard once, a moment after the last of them. */
(function () {
  let pending = null;
  document.body.addEventListener("live:metrics.updated", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      document.body.dispatchEvent(new CustomEvent("analytics-data-changed"));
    }, 1500);
  });
})();
