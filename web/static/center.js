// 热线中心: the queues to review; each row opens the ticket page with the center's actions.
"use strict";
const QUEUES = [
  ["returns", "退单审核", "承办单位申请退单，待中心审核改派或驳回。"],
  ["extensions", "延期审核", "承办单位申请延长办理时限，待中心审批。"],
  ["follow_up", "紧急转办跟踪", "已转 110/119/120/122 的诉求，待确认处置结果。"],
  ["callbacks", "待回访", "承办单位已答复，待人工回访市民（满意度、是否解决）。"],
  ["warnings", "预警/超时", "临近或超过办理时限的在办工单。"],
  ["consultations", "会商", "多个单位就权责会商中的工单。"],
  ["rulings", "待领导裁定", "会商未达成一致，待中心领导终诊裁定。"],
  ["hard_cases", "疑难件（动态清零）", "达到重办上限的疑难件，列入月度动态清零清单。"],
];
let queue = (location.hash || "#returns").slice(1);

const ask = () => get(`/workbench/api/queues/${queue}`);
let first = ask(); // asked at once, beside the page's frame

async function load() {
  const month = $("#month").value;
  const q = await (first || ask());
  first = null;
  $("#tabs").innerHTML = QUEUES.map(([k, t]) =>
    `<button type="button" data-q="${k}" class="${k === queue ? "active" : ""}">${t} <span class="badge">${q.counts[k] ?? 0}</span></button>`).join("");
  for (const b of $$("#tabs button")) b.onclick = () => { queue = b.dataset.q; location.hash = queue; load(); };
  $("#hint").textContent = (QUEUES.find((x) => x[0] === queue) || [])[2] || "";
  let items = q.items;
  if (queue === "hard_cases" && month) items = await get(`/clearing-list?month=${month}`);
  $("#list").innerHTML = ticketTable(items, { empty: "此队列暂无待办" });
  $("#updated").textContent = "更新于 " + fmtTime(q.now, false);
}

(async () => {
  await Promise.all([layout("/center"), units(), categories()]);
  const now = new Date();
  $("#month").value = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
  $("#month").onchange = load;
  every(15000, load);
})();
