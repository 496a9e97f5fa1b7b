// 态势感知: live counts from the read model, refreshed by polling; charts by Apache ECharts (served locally).
"use strict";
// Endpoints of the assessment and smart-intake parts: shown when they answer, "尚未启用" on 404.
const OPTIONAL = {
  rates: "/assessment/rankings",
  hotspots: "/assessment/warnings?limit=15",
  first_dispatch: "/stats/first-dispatch",
};
const charts = {};
// ECharts is loaded after this script (defer): the overview is asked for while it downloads and
// parses; the charts are drawn once both are there (deferred scripts run before DOMContentLoaded).
const library = new Promise((resolve) => {
  if (document.readyState !== "loading") resolve();
  else document.addEventListener("DOMContentLoaded", resolve);
});
const RED = "#b91c1c", AMBER = "#d97706", BLUE = "#2563eb", GREEN = "#16a34a", GREY = "#9ca3af";

function chart(id) {
  if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
  return charts[id];
}
window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
const base = { animation: false, grid: { left: 40, right: 16, top: 24, bottom: 28, containLabel: true }, tooltip: { trigger: "axis" },
               textStyle: { fontFamily: getComputedStyle(document.documentElement).fontFamily } };

function kpis(o) {
  const items = [["在办", o.open, ""], ["超时", o.overdue, "red"], ["预警", o.warned, "amber"],
                 ["待回访", o.by_stage.callback || 0, ""], ["今日受理", o.today.received, ""], ["今日办结", o.today.closed, "green"]];
  $("#kpis").innerHTML = items.map(([t, n, cls]) => `<div class="kpi ${cls}"><div class="n" data-kpi="${t}">${n}</div><div class="t">${t}</div></div>`).join("");
}

function draw(o) {
  const stages = ["intake", "follow_up", "dispatch", "handling", "rehandle", "callback"];
  chart("c_stage").setOption({ ...base, xAxis: { type: "category", data: stages.map((s) => lab("stage", s)), axisLabel: { interval: 0 } },
    yAxis: { type: "value", minInterval: 1 }, series: [{ type: "bar", data: stages.map((s) => o.by_stage[s] || 0), itemStyle: { color: BLUE } }] });
  chart("c_tier").setOption({ ...base, tooltip: { trigger: "item" }, legend: { bottom: 0 },
    series: [{ type: "pie", radius: ["40%", "70%"], stillShowZeroSum: false, label: { formatter: "{b}: {c}" },
      data: ["street", "district", "city"].map((t) => ({ name: lab("tier", t) + "级", value: o.by_tier[t] || 0 })) }] });
  chart("c_today").setOption({ ...base, legend: { top: 0 }, xAxis: { type: "category", data: o.today_by_hour.map((h) => h.hour + "时") },
    yAxis: { type: "value", minInterval: 1 }, series: [
      { name: "受理", type: "bar", data: o.today_by_hour.map((h) => h.received), itemStyle: { color: BLUE } },
      { name: "办结", type: "bar", data: o.today_by_hour.map((h) => h.closed), itemStyle: { color: GREEN } }] });
  const ds = o.districts.slice().reverse();
  chart("c_district").setOption({ ...base, legend: { top: 0 }, grid: { ...base.grid, top: 30 }, yAxis: { type: "category", data: ds.map((d) => d.name) },
    xAxis: { type: "value", minInterval: 1 }, series: [
      { name: "在办", type: "bar", data: ds.map((d) => d.open - d.overdue - d.warned), stack: "a", itemStyle: { color: BLUE } },
      { name: "预警", type: "bar", data: ds.map((d) => d.warned), stack: "a", itemStyle: { color: AMBER } },
      { name: "超时", type: "bar", data: ds.map((d) => d.overdue), stack: "a", itemStyle: { color: RED } }] });
  chart("c_week").setOption({ ...base, legend: { top: 0 }, xAxis: { type: "category", data: o.week.map((d) => d.date.slice(5)) },
    yAxis: { type: "value", minInterval: 1 }, series: [
      { name: "受理", type: "line", data: o.week.map((d) => d.received), itemStyle: { color: BLUE } },
      { name: "办结", type: "line", data: o.week.map((d) => d.closed), itemStyle: { color: GREEN } }] });
}

// The geographic view: each district a band of its street offices, a tile's width its open
// tickets and its colour the overdue share. Plain elements, not a chart: a hundred-odd tiles
// drawn at once, names legible, each with its figures.
const share = (a) => (a.open ? a.overdue / a.open : 0);
const shade = (x) => (x >= 0.4 ? 3 : x >= 0.25 ? 2 : x >= 0.1 ? 1 : 0);
function geo(o) {
  const tip = (a) => `${a.name}：在办 ${a.open} · 预警 ${a.warned} · 超时 ${a.overdue}（${Math.round(share(a) * 100)}%）`;
  $("#geo").innerHTML = o.districts.map((d) => `
    <section data-area="${esc(d.id)}"><h3><span class="tile" style="background:var(--geo-${shade(share(d))})"></span>${esc(d.name)}
      <span class="muted small">在办 ${d.open} · 超时 ${d.overdue}</span></h3>
      <div class="tiles">${(o.streets[d.id] || []).map((s) =>
        `<span class="tile" data-area="${esc(s.id)}" title="${esc(tip(s))}" style="flex-grow:${s.open};background:var(--geo-${shade(share(s))})">${esc(s.name)} ${s.open}</span>`).join("")}</div>
    </section>`).join("") || `<p class="muted">暂无在办工单</p>`;
}

// An optional section: its endpoint's data as a table, or a clear notice while it is not there.
async function optional(id, render) {
  const el = document.getElementById(id);
  try {
    const data = await get(OPTIONAL[id]);
    el.innerHTML = render(data);
  } catch (err) {
    el.innerHTML = err.status === 404
      ? `<div class="notice">尚未启用：本功能的数据接口（${esc(OPTIONAL[id])}）尚未部署。</div>`
      : `<div class="error">${esc(err.message)}</div>`;
  }
}
function table(rows) {
  const list = Array.isArray(rows) ? rows : rows.items || rows.rankings || rows.warnings || [rows];
  if (!list.length) return `<p class="muted">暂无数据</p>`;
  const cols = Object.keys(list[0]).filter((k) => typeof list[0][k] !== "object");
  return `<table><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>${list.slice(0, 15).map((r) =>
    `<tr>${cols.map((c) => `<td>${esc(typeof r[c] === "number" && !Number.isInteger(r[c]) ? (r[c] * (r[c] <= 1 ? 100 : 1)).toFixed(1) + (r[c] <= 1 ? "%" : "") : unitName(r[c]) || r[c])}</td>`).join("")}</tr>`).join("")}</table>`;
}

const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%");
function ranking(r) {
  // 三率: the street tier's ranking this month (units below the minimum sample are listed unranked).
  const rows = (r.units || []).slice(0, 15);
  if (!rows.length) return `<p class="muted">本期暂无考核数据</p>`;
  return `<table><tr><th>名次</th><th>单位</th><th>响应率</th><th>解决率</th><th>满意率</th><th>综合得分</th><th>件数</th></tr>${rows.map((u) =>
    `<tr><td>${u.ranked ? u.rank : "—"}</td><td>${esc(u.name)}</td><td>${pct(u.rates.response)}</td><td>${pct(u.rates.resolution)}</td>` +
    `<td>${pct(u.rates.satisfaction)}</td><td>${u.score === null ? "—" : u.score.toFixed(1)}</td><td>${u.assessed}</td></tr>`).join("")}</table>`;
}
function warnings(list) {
  if (!list.length) return `<p class="muted">暂无热点预警</p>`;
  return `<table><tr><th>时间</th><th>类别</th><th>地点</th><th>件数</th><th>基线</th></tr>${list.map((w) =>
    `<tr><td>${esc(fmtTime(w.raised_at, false))}</td><td>${esc(w.category)}</td><td>${esc(unitName(w.street) || unitName(w.district) || "")}${w.community ? " " + esc(w.community) : ""}</td>` +
    `<td>${w.count}</td><td>${w.baseline.toFixed(1)}</td></tr>`).join("")}</table>`;
}

let first = get("/workbench/api/overview"); // asked at once, beside the page's frame
let drawnOnce = null;
const drawn = new Promise((resolve) => { drawnOnce = resolve; });

async function refresh() {
  const o = await (first || get("/workbench/api/overview"));
  first = null;
  kpis(o);
  geo(o);
  await library;
  draw(o);
  drawnOnce();
  $("#updated").textContent = "更新于 " + fmtTime(o.now, false) + "（每 10 秒自动刷新）";
}

(async () => {
  await Promise.all([layout("/dashboard"), units()]);
  every(10000, refresh);
  // The assessment's sections after the live counts are drawn: they do not hold up the first screen.
  await drawn;
  every(60000, () => Promise.all([optional("rates", ranking), optional("hotspots", warnings), optional("first_dispatch", table)]));
})();
