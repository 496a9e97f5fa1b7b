// 12345 工作台: shared helpers of every page. Plain JavaScript, no build step, nothing from outside.
"use strict";

const L = {
  stage: { intake: "受理中", follow_up: "紧急转办跟踪", dispatch: "待签收", handling: "办理中", rehandle: "重办中",
           callback: "待回访", closed: "已办结" },
  tier: { street: "街道", district: "区", city: "市" },
  urgency: { emergency: "紧急", urgent: "加急", normal: "一般", complex: "复杂" },
  kind: { consultation: "咨询", help: "求助", complaint: "投诉", report: "举报", suggestion: "建议", praise: "表扬" },
  channel: { phone: "电话", web: "网站", wechat: "微信", app: "App", sms: "短信", mailbox: "市长信箱", weibo: "微博",
             grid: "网格员", transfer: "转办" },
  role: { intake: "话务受理", unit: "承办单位", center: "热线中心", supervisor: "督查/值班长", leader: "中心领导" },
  path: { dispatch: "派单办理", direct_answer: "直接答复", out_of_scope: "非受理范围", legal_channel: "引导法定途径",
          emergency_transfer: "转紧急救助" },
  result: { resolved: "已解决", explained: "已解释说明", unresolvable: "无法解决" },
  satisfaction: { satisfied: "满意", basically_satisfied: "基本满意", unsatisfied: "不满意" },
  outcome: { confirmed: "回访确认", no_callback: "免回访", rated_online: "在线评价", unreachable: "联系不上",
             hard_case: "疑难件", direct_answer: "直接答复", out_of_scope: "非受理范围", emergency_transfer: "紧急转办",
             legal_channel: "法定途径" },
  flag: { return_pending: "退单待审", in_consultation: "会商中", awaiting_ruling: "待裁定", ruled: "已裁定",
          urged: "已督办", supervised: "督办件", repeated: "重复件", hard_case: "疑难件", enterprise: "涉企",
          delivery_failed: "派送失败", follow_up: "紧急跟踪", follow_up_overdue: "跟踪超时", estimated_deadline: "期限估算" },
  clock: { acknowledge: "签收时限", contact: "联系市民时限", completion: "办结时限", report: "协办反馈时限",
           callback: "回访时限", follow_up: "紧急跟踪时限" },
  event: { received: "受理", merged: "并单", dispatched: "派单", acknowledged: "签收", progress: "进展", completed: "办结",
           escalated: "提级", urged: "督办", whistle: "吹哨", deadline_moved: "期限调整", warned: "预警", breached: "超时",
           return_requested: "申请退单", return_decided: "退单审核", consultation_opened: "发起会商", ruled: "领导裁定",
           callback_requested: "待回访", callback_answered: "回访", rehandle: "重办", closed: "结案",
           extension_requested: "申请延期", extension_decided: "延期审核", transferred: "转紧急", followed_up: "紧急跟踪",
           rated_online: "在线评价", answered: "直接答复" },
};

function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function lab(kind, v) { return (L[kind] && L[kind][v]) || v || ""; }
function $(sel, root) { return (root || document).querySelector(sel); }
function $$(sel, root) { return Array.from((root || document).querySelectorAll(sel)); }
function cookie(name) {
  const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
  return m ? decodeURIComponent(m[1]) : "";
}

class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

// Every call is same-origin; a change carries the session's CSRF token.
let inflight = 0; // calls on their way (`hotline bench-web` waits for none before its next run)
function callsInFlight() { return inflight; }
async function api(method, path, body, headers) {
  inflight++;
  try { return await call(method, path, body, headers); } finally { inflight--; }
}
async function call(method, path, body, headers) {
  const h = { Accept: "application/json", ...(headers || {}) };
  if (method !== "GET") h["X-CSRF-Token"] = cookie("hotline_csrf");
  if (body !== undefined) h["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
                                  credentials: "same-origin" });
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith("/public/") && !path.endsWith("/login")) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search + location.hash);
    }
    throw new ApiError(res.status, (data && data.detail) || res.statusText || "请求失败");
  }
  return data;
}
const get = (p) => api("GET", p);
const post = (p, b, h) => api("POST", p, b === undefined ? {} : b, h);

function fmtTime(iso, withDate = true) {
  if (!iso) return "";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  const t = `${p(d.getHours())}:${p(d.getMinutes())}`;
  return withDate ? `${d.getMonth() + 1}-${p(d.getDate())} ${t}` : t;
}

// A deadline as a live countdown: "剩 2天 03:14:05" or "超时 01:02:03".
function countdown(deadline, warned, overdue) {
  if (!deadline) return '<span class="muted">—</span>';
  return `<span class="countdown" data-deadline="${esc(deadline)}" data-warned="${warned ? 1 : 0}"
           data-overdue="${overdue ? 1 : 0}"></span>`;
}
function tickCountdowns() {
  const now = Date.now();
  for (const el of $$(".countdown[data-deadline]")) {
    let ms = new Date(el.dataset.deadline).getTime() - now;
    const late = ms < 0 || el.dataset.overdue === "1";
    ms = Math.abs(ms);
    const s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60, p = (n) => String(n).padStart(2, "0");
    el.textContent = (late ? "超时 " : "剩 ") + (d ? `${d}天 ` : "") + `${p(h)}:${p(m)}:${p(sec)}`;
    el.classList.toggle("overdue", late);
    el.classList.toggle("warned", !late && el.dataset.warned === "1");
  }
}
setInterval(tickCountdowns, 1000);

let _me = null;
async function me() {
  if (!_me) _me = await get("/workbench/api/me");
  return _me;
}

const NAV = [
  { href: "/desk", text: "受理台", roles: ["intake", "center", "supervisor"] },
  { href: "/unit", text: "承办工作台", roles: ["unit"] },
  { href: "/center", text: "中心审核", roles: ["center", "supervisor", "leader"] },
  { href: "/dashboard", text: "态势感知", roles: ["intake", "center", "supervisor", "leader"] },
  { href: "/kb", text: "知识库", roles: ["intake", "center", "supervisor", "leader"] },
  { href: "/users", text: "用户管理", roles: ["center"] },
  { href: "/docs", text: "API 文档", roles: ["center", "supervisor"] },
];

// The page's header: the role's pages, who is signed in, sign-out.
async function layout(active) {
  const m = await me();
  const links = NAV.filter((n) => n.roles.includes(m.role))
    .map((n) => `<a href="${n.href}" class="${n.href === active ? "active" : ""}">${n.text}</a>`).join("");
  const who = `${esc(m.display_name || m.username)} · ${lab("role", m.role)}${m.unit_name ? " · " + esc(m.unit_name) : ""}`;
  const header = document.createElement("header");
  header.className = "top";
  header.innerHTML = `<span class="brand">12345 热线工作台</span><nav>${links}</nav>
    <span class="who" id="who">${who}</span><button id="logout" type="button">退出</button>`;
  document.body.prepend(header);
  $("#logout").onclick = async () => {
    try { await post("/workbench/api/logout"); } finally { location.href = "/login"; }
  };
  return m;
}

let _units = null;
async function units() {
  if (!_units) {
    const list = await get("/units");
    _units = { list, byId: Object.fromEntries(list.map((u) => [u.id, u])) };
  }
  return _units;
}
function unitName(id) { return (_units && _units.byId[id] && _units.byId[id].name) || id || ""; }

let _categories = null;
async function categories() {
  if (!_categories) {
    const list = await get("/categories");
    _categories = { list, byId: Object.fromEntries(list.map((c) => [c.id, c])) };
  }
  return _categories;
}
function categoryName(id) { return (_categories && _categories.byId[id] && _categories.byId[id].name) || id || ""; }

function flags(list) {
  return (list || []).map((f) => {
    const cls = ["return_pending", "delivery_failed", "follow_up_overdue", "awaiting_ruling"].includes(f) ? "red"
      : ["urged", "supervised", "in_consultation"].includes(f) ? "amber" : "";
    return `<span class="pill ${cls}">${esc(lab("flag", f))}</span>`;
  }).join("");
}

// A table of ticket list rows; a row opens the ticket page.
function ticketTable(items, opts = {}) {
  if (!items.length) return `<p class="muted">${opts.empty || "暂无工单"}</p>`;
  const rows = items.map((t) => `
    <tr class="clickable ${t.overdue ? "overdue" : t.warned ? "warned" : ""}" data-number="${esc(t.number)}">
      <td><a href="/ticket?n=${esc(t.number)}">${esc(t.number)}</a></td>
      <td>${esc(categoryName(t.category))}</td>
      <td class="hide-narrow">${esc(unitName(t.street) || unitName(t.district))}</td>
      <td>${esc(lab("stage", t.stage))}${t.tier !== "street" ? ` <span class="pill blue">${lab("tier", t.tier)}级</span>` : ""}</td>
      <td class="hide-narrow">${esc(unitName(t.lead_unit))}</td>
      <td>${countdown(t.deadline, t.warned, t.overdue)}</td>
      <td class="hide-narrow">${t.urgency !== "normal" ? `<span class="pill red">${lab("urgency", t.urgency)}</span>` : ""}${flags(t.flags)}</td>
    </tr>`).join("");
  setTimeout(tickCountdowns, 0);
  return `<table><thead><tr><th>工单号</th><th>类别</th><th class="hide-narrow">属地</th><th>阶段</th>
    <th class="hide-narrow">承办单位</th><th>办理时限</th><th class="hide-narrow">标记</th></tr></thead><tbody>${rows}</tbody></table>`;
}
document.addEventListener("click", (e) => {
  const tr = e.target.closest && e.target.closest("tr.clickable[data-number]");
  if (tr && !e.target.closest("a, button")) location.href = "/ticket?n=" + encodeURIComponent(tr.dataset.number);
});

// Polls fn every ms while the page is visible (and at once when it becomes visible again).
function every(ms, fn) {
  let timer = null;
  const run = async () => {
    clearTimeout(timer);
    try { await fn(); } catch (e) { console.warn(e); }
    timer = setTimeout(run, ms);
  };
  document.addEventListener("visibilitychange", () => { if (!document.hidden) run(); });
  run();
}

function showError(el, err) {
  el.innerHTML = err ? `<div class="error" role="alert">${esc(err.message || err)}</div>` : "";
}

function formData(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.type === "radio") { if (el.checked) out[el.name] = el.value; }
    else out[el.name] = el.value;
  }
  return out;
}

function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
}
