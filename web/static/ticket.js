// 工单页: the ticket's state and timeline, and every action the caller's role may try; the API's
// refusal reason is shown under the form when the rules say no.
"use strict";
const number = new URLSearchParams(location.search).get("n") || "";
let state = null, who = null;

const yesNo = [["true", "是"], ["false", "否"]];
const LIMITS = [["24h", "24 小时"], ["48h", "48 小时"], ["3d", "3 天"], ["5wd", "5 个工作日"], ["10wd", "10 个工作日"]];

// [path, title, roles, fields, body(form values) -> JSON, open(state) -> bool]
const ACTIONS = [
  ["acknowledge", "签收", ["unit"], [], () => ({}), (s) => s.stage === "dispatch" && s.lead_unit === who.unit],
  ["progress", "添加办理进展", ["unit"], [["note", "进展情况", "textarea"], ["contacted_citizen", "已联系市民", "checkbox"]],
    (f) => ({ note: f.note, contacted_citizen: f.contacted_citizen })],
  ["complete", "办结答复", ["unit"], [["result", "办理结果", "select", Object.entries(L.result)], ["reply", "答复市民内容", "textarea"],
    ["parts_done", "已办结的部分（多项诉求分部办结：勾选确认已完成的协办单位部分）", "parts"]],
    (f, s, form) => ({ result: f.result, reply: f.reply, ...partsDone(form, s) }),
    (s) => ["handling", "rehandle"].includes(s.stage) && s.lead_unit === who.unit],
  ["report", "协办反馈（报告本单位承担部分）", ["unit"], [["report", "协办情况", "textarea"]], (f) => ({ report: f.report }),
    (s) => s.cooperating && s.cooperating[who.unit] && !s.cooperating[who.unit].reported_at],
  ["consultation/answer", "答复会商", ["unit"], [["answer", "本单位意见", "select", [["lead", "由本单位主办"], ["cooperating", "本单位协办"], ["decline", "不属本单位职责"]]],
    ["reason", "理由", "textarea"]],
    (f, s) => ({ answer: f.answer, reason: f.reason, round: consultationRound(s) }),
    (s) => { const c = openConsultation(s); return !!(c && c.candidates[who.unit]); }],
  ["return-request", "申请退单", ["unit"], [["reason", "退单理由", "textarea"], ["suggested_unit", "建议承办单位（可选）", "unit"]],
    (f) => ({ reason: f.reason, suggested_unit: f.suggested_unit || null })],
  ["return-dispute", "对驳回的退单提出异议（发起会商）", ["unit"], [["reason", "异议理由", "textarea"]], (f) => ({ reason: f.reason })],
  ["extension-request", "申请延期", ["unit"], [["by", "延长", "select", LIMITS], ["reason", "延期理由", "textarea"]],
    (f) => ({ by: f.by, reason: f.reason })],
  ["whistle", "吹哨报到（召集部门）", ["unit"], [["units", "召集的部门", "units"], ["reason", "事由", "textarea"]],
    (f) => ({ units: f.units, reason: f.reason })],
  ["return-decision", "审核退单", ["center", "supervisor"], [["approve", "批准退单并改派", "select", yesNo], ["reassign_to", "改派至（默认下一候选）", "unit"], ["note", "审核意见", "textarea"]],
    (f) => ({ approve: f.approve === "true", reassign_to: f.reassign_to || null, note: f.note }), (s) => s.flags.includes("return_pending")],
  ["extension-decision", "审核延期", ["center", "supervisor"], [["approve", "批准延期", "select", yesNo], ["note", "审核意见", "textarea"]],
    (f) => ({ approve: f.approve === "true", note: f.note }), (s) => (s.extensions || []).some((e) => !e.decision)],
  ["callback", "记录回访结果", ["center", "intake", "supervisor"],
    [["reached", "已联系上市民", "checkbox", null, true], ["resolved", "问题是否解决", "select", [["", "—"], ...yesNo]],
     ["satisfaction", "满意度", "select", [["", "—"], ...Object.entries(L.satisfaction)]], ["comment", "市民意见", "textarea"]],
    (f) => f.reached ? { reached: true, resolved: f.resolved === "true", satisfaction: f.satisfaction || null, comment: f.comment }
                     : { reached: false, comment: f.comment },
    (s) => s.stage === "callback"],
  ["emergency-follow-up", "记录紧急转办处置结果", ["center", "supervisor"],
    [["handled", "已由紧急救助部门处置", "select", [["true", "是，结案"], ["false", "否，转回热线派单"]]], ["note", "处置情况", "textarea"]],
    (f) => ({ handled: f.handled === "true", note: f.note }), (s) => s.stage === "follow_up"],
  ["consultation", "发起会商", ["center", "supervisor", "leader"], [["candidates", "参加会商的单位（至少两个）", "units"], ["reason", "会商事由", "textarea"]],
    (f) => ({ candidates: f.candidates, reason: f.reason })],
  ["ruling", "领导终诊裁定", ["leader"], [["lead", "主办单位", "unit"], ["cooperating", "协办单位", "units"], ["reason", "裁定理由", "textarea"],
    ["save_as_rule", "存为权责规则（此后同类同地工单照此派发）", "checkbox"], ["area", "规则范围", "select", [["street", "本街道"], ["district", "本区"]]]],
    (f) => ({ lead: f.lead, cooperating: f.cooperating, reason: f.reason, save_as_rule: f.save_as_rule, area: f.area }),
    (s) => s.flags.includes("awaiting_ruling")],
  ["urge", "督办", ["center", "supervisor", "leader"], [["note", "督办意见", "textarea"]], (f) => ({ note: f.note })],
  ["escalate", "提级办理", ["center", "supervisor", "leader", "unit"], [["reason", "提级理由", "textarea"]], (f) => ({ reason: f.reason })],
];

// The complete form's parts: one box per cooperating unit (checked once it reported its part).
// Sent only when the ticket has parts; unchecked ones stay open in the record of the completion.
function partsDone(form, s) {
  const boxes = $$('input[name="parts_done"]', form);
  return boxes.length ? { parts_done: boxes.filter((b) => b.checked).map((b) => b.value) } : {};
}
function renderParts(s) {
  for (const box of $$("[data-parts]")) {
    const was = Object.fromEntries($$("input", box).map((i) => [i.value, i.checked]));
    const coop = Object.values(s.cooperating || {});
    box.innerHTML = coop.length ? coop.map((c) => `<label class="check"><input type="checkbox" name="parts_done" value="${esc(c.unit)}"
        ${(c.unit in was ? was[c.unit] : !!c.report) ? "checked" : ""}>${esc(s.unit_names[c.unit] || unitName(c.unit))}
        <span class="muted small">&nbsp;${c.report ? "已反馈：" + esc(c.report) : "未反馈"}</span></label>`).join("")
      : `<p class="muted small">本工单没有协办单位：整件办结。</p>`;
  }
}

function openConsultation(s) { return (s.consultations || []).find((c) => ["open", "needs_ruling"].includes(c.status)); }
function consultationRound(s) { const c = openConsultation(s); return c && c.rounds.length ? c.rounds[c.rounds.length - 1].number : null; }

function unitOptions(multi) {
  const byTier = { city: [], district: [], street: [] };
  for (const u of _units.list) (byTier[u.tier] || []).push(u);
  return (multi ? "" : `<option value="">—</option>`) + Object.entries(byTier).map(([t, us]) =>
    `<optgroup label="${lab("tier", t)}级">${us.map((u) => `<option value="${esc(u.id)}">${esc(u.name)}</option>`).join("")}</optgroup>`).join("");
}

function field([name, text, type, opts, checked]) {
  if (type === "textarea") return `<label>${text}<textarea name="${name}" rows="3"></textarea></label>`;
  if (type === "checkbox") return `<label class="check"><input type="checkbox" name="${name}" ${checked ? "checked" : ""}>${text}</label>`;
  if (type === "select") return `<label>${text}<select name="${name}">${opts.map(([v, t]) => `<option value="${esc(v)}">${esc(t)}</option>`).join("")}</select></label>`;
  if (type === "unit") return `<label>${text}<select name="${name}">${unitOptions(false)}</select></label>`;
  if (type === "parts") return `<fieldset class="parts"><legend>${text}</legend><div data-parts></div></fieldset>`;
  if (type === "units") return `<label>${text}（按住 Ctrl 多选）<select name="${name}" multiple size="6">${unitOptions(true)}</select></label>`;
  return `<label>${text}<input name="${name}"></label>`;
}

function renderActions() {
  const mine = ACTIONS.filter((a) => a[2].includes(who.role));
  $("#actions").innerHTML = mine.map(([path, title, , fields, , open], i) => `
    <details class="action" data-i="${ACTIONS.findIndex((a) => a[0] === path)}" ${open && open(state) ? "open" : ""}>
      <summary>${title}</summary>
      <form data-action="${path}">${fields.map(field).join("")}<div class="refusal"></div>
        <button type="submit" class="primary">${title}</button></form>
    </details>`).join("") || `<p class="muted">此角色在本工单上没有操作。</p>`;
  for (const form of $$("#actions form")) form.addEventListener("submit", act);
}

async function act(e) {
  e.preventDefault();
  const form = e.target;
  const [path, title, , , body] = ACTIONS[Number(form.closest("details").dataset.i)];
  const f = formData(form);
  delete f.parts_done; // read as a list by partsDone
  for (const sel of $$("select[multiple]", form)) f[sel.name] = Array.from(sel.selectedOptions).map((o) => o.value);
  const btn = $("button[type=submit]", form);
  btn.disabled = true;
  showError($(".refusal", form), null);
  try {
    await post(`/tickets/${encodeURIComponent(number)}/${path}`, body(f, state, form));
    $("#action_msg").innerHTML = `<div class="success" role="status">“${esc(title)}”已完成。</div>`;
    form.reset();
    form.closest("details").open = false;
    await load();
  } catch (err) {
    showError($(".refusal", form), `未能${title}：${err.message}`);
  } finally {
    btn.disabled = false;
  }
}

const coopOf = (s) => Object.values(s.cooperating || {});

function render(s) {
  const n = (u) => esc(s.unit_names[u] || unitName(u) || u || "—");
  document.title = `工单 ${s.number} · 12345 热线工作台`;
  $("#title").textContent = `工单 ${s.number}`;
  const r = s.request, a = r.address;
  $("#summary").innerHTML = `
    <div class="toolbar"><span class="pill blue" id="stage">${lab("stage", s.stage)}</span>
      <span class="pill">${lab("tier", s.tier)}级</span>${r.urgency !== "normal" ? `<span class="pill red">${lab("urgency", r.urgency)}</span>` : ""}
      ${flags(s.flags)}<span class="grow"></span>${s.deadline ? "办理时限 " + countdown(s.deadline, s.warned, s.overdue) : ""}</div>
    <dl class="facts">
      <dt>诉求类别</dt><dd>${esc(categoryName(r.category))}</dd>
      <dt>承办单位</dt><dd>${n(s.lead_unit)}${s.coordinator_unit ? `（协调：${n(s.coordinator_unit)}）` : ""}</dd>
      <dt>监管部门</dt><dd>${n(s.supervisor_unit)}</dd>
      <dt>属地</dt><dd>${n(s.district_unit)} ${n(s.street_unit)} ${esc(a.text)}</dd>
      <dt>受理</dt><dd>${fmtTime(s.received_at)} · ${lab("channel", r.channel)} · ${lab("kind", r.kind)}</dd>
      <dt>市民</dt><dd>${esc(r.citizen.name || "匿名")} ${esc(r.citizen.phone || "")}</dd>
      ${s.triage ? `<dt>处理路径</dt><dd>${lab("path", s.triage.path)}${s.triage.overridden_by ? `（人工改判：${esc(s.triage.reason)}）` : ""}</dd>` : ""}
      ${s.outcome ? `<dt>结果</dt><dd>${lab("outcome", s.outcome)}</dd>` : ""}
    </dl>
    <h3>诉求内容</h3><div class="script">${esc(r.description)}</div>
    ${s.completion ? `<h3>答复（${lab("result", s.completion.result)}）</h3><div class="script">${esc(s.completion.reply)}</div>` : ""}
    ${s.completion && coopOf(s).length ? `<p id="parts_done">已办结的部分：${esc(s.completion.parts_done.map((u) => s.unit_names[u] || unitName(u)).join("、") || "无")}
      ${coopOf(s).filter((c) => !s.completion.parts_done.includes(c.unit)).length ? `；未办结：${esc(coopOf(s).filter((c) => !s.completion.parts_done.includes(c.unit)).map((c) => s.unit_names[c.unit] || unitName(c.unit)).join("、"))}` : ""}</p>` : ""}`;
  let d = "";
  const coop = Object.values(s.cooperating || {});
  if (coop.length) d += `<h3>协办单位</h3><table><tr><th>单位</th><th>来由</th><th>反馈</th></tr>${coop.map((c) =>
    `<tr><td>${n(c.unit)}</td><td>${esc(c.via)}</td><td>${c.report ? esc(c.report) : '<span class="muted">未反馈</span>'}</td></tr>`).join("")}</table>`;
  if ((s.returns || []).length) d += `<h3>退单</h3><table><tr><th>单位</th><th>理由</th><th>状态</th></tr>${s.returns.map((x) =>
    `<tr><td>${n(x.unit)}</td><td>${esc(x.reason)}</td><td>${esc(x.status)}${x.note ? "：" + esc(x.note) : ""}</td></tr>`).join("")}</table>`;
  if ((s.extensions || []).length) d += `<h3>延期</h3><table><tr><th>单位</th><th>延长</th><th>理由</th><th>审核</th></tr>${s.extensions.map((x) =>
    `<tr><td>${n(x.unit)}</td><td>${esc(x.by)}</td><td>${esc(x.reason)}</td><td>${esc(x.decision || "待审核")}</td></tr>`).join("")}</table>`;
  for (const c of s.consultations || []) {
    const last = c.rounds[c.rounds.length - 1];
    d += `<h3>会商 #${c.number}（${esc(c.status)}）</h3><p>${esc(c.reason)}</p><table><tr><th>单位</th><th>意见</th></tr>${Object.entries(c.candidates).map(([u, nm]) => {
      const ans = last && last.answers[u];
      return `<tr><td>${esc(nm)}</td><td>${ans ? esc(ans.answer) + (ans.reason ? "：" + esc(ans.reason) : "") : '<span class="muted">未答复</span>'}</td></tr>`;
    }).join("")}</table>`;
  }
  if ((s.callbacks || []).length) d += `<h3>回访</h3><table><tr><th>时间</th><th>结果</th><th>意见</th></tr>${s.callbacks.map((c) =>
    `<tr><td>${fmtTime(c.at)}</td><td>${c.reached ? `${c.resolved ? "已解决" : "未解决"} · ${lab("satisfaction", c.satisfaction)}` : "未联系上"}${c.online ? "（在线）" : ""}</td><td>${esc(c.comment)}</td></tr>`).join("")}</table>`;
  const clocks = Object.values(s.clocks || {});
  if (clocks.length) d += `<h3>时限</h3><table><tr><th>时钟</th><th>期限</th><th>状态</th></tr>${clocks.map((c) =>
    `<tr><td>${esc(lab("clock", c.name))}${c.unit ? " · " + n(c.unit) : ""}</td><td>${fmtTime(c.due_at)}</td><td>${c.met_at ? "已完成" : c.breached_at ? '<span class="pill red">超时</span>' : c.warned_at ? '<span class="pill amber">预警</span>' : "计时中"}</td></tr>`).join("")}</table>`;
  $("#details").innerHTML = d || `<p class="muted">暂无协办、退单、延期或会商记录。</p>`;
  $("#timeline").innerHTML = s.timeline.slice().reverse().map((e) =>
    `<li><span class="at">${fmtTime(e.at)}</span><b>${esc(lab("event", e.event))}</b> <span class="muted small">${esc(unitName(e.actor) || e.actor)}</span>
      ${e.detail ? `<div class="small">${esc(e.detail)}</div>` : ""}</li>`).join("");
  tickCountdowns();
}

async function load() {
  try {
    state = await get(`/tickets/${encodeURIComponent(number)}`);
  } catch (err) {
    showError($("#load_error"), err);
    return;
  }
  showError($("#load_error"), null);
  const openBefore = $$("#actions details[open]").map((x) => x.dataset.i);
  render(state);
  if (!$("#actions form")) renderActions();
  else for (const det of $$("#actions details")) {
    const a = ACTIONS[Number(det.dataset.i)];
    det.open = openBefore.includes(det.dataset.i) || !!(a[5] && a[5](state));
  }
  renderParts(state);
}

(async () => {
  who = await layout("");
  await Promise.all([units(), categories()]);
  every(10000, load);
})();
