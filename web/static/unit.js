// 承办单位工作台: the unit's tickets by tab, nearest deadline first, with live countdowns.
"use strict";
const TABS = [["sign", "待签收"], ["hand", "办理中"], ["coop", "协办"], ["consult", "会商邀请"], ["returned", "退单"],
              ["watch", "监管/协调"]];
let tab = (location.hash || "#sign").slice(1);

const list = () => get(`/workbench/api/worklist?tab=${tab}`);
let first = list(); // asked at once, beside the page's frame: the list is what the unit came for

async function load() {
  const w = await (first || list());
  first = null;
  $("#tabs").innerHTML = TABS.map(([k, t]) =>
    `<button type="button" data-tab="${k}" class="${k === tab ? "active" : ""}">${t} <span class="badge">${w.counts[k] ?? 0}</span></button>`).join("");
  for (const b of $$("#tabs button")) b.onclick = () => { tab = b.dataset.tab; location.hash = tab; load(); };
  $("#list").innerHTML = ticketTable(w.items, { empty: "此栏暂无工单" }) +
    (w.total > w.items.length ? `<p class="muted small">共 ${w.total} 件，显示期限最近的 ${w.items.length} 件</p>` : "");
  $("#updated").textContent = "更新于 " + fmtTime(w.now, false);
}

(async () => {
  const [m] = await Promise.all([layout("/unit"), units(), categories()]);
  $("#title").textContent = `承办单位工作台 · ${m.unit_name || m.unit}`;
  every(15000, load);
})();
