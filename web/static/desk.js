// 受理台: one form, keyboard first; the triage preview follows the operator's typing.
"use strict";
let triage = null; // the last POST /triage answer
let suggestedFields = {}; // category / district / street the triage suggests, when it does

function options(sel, pairs, blank) {
  sel.innerHTML = (blank ? `<option value="">${blank}</option>` : "") +
    pairs.map(([v, t]) => `<option value="${esc(v)}">${esc(t)}</option>`).join("");
}

async function init() {
  await layout("/desk");
  const [u, c] = await Promise.all([units(), categories()]);
  options($("#kind"), Object.entries(L.kind));
  $("#kind").value = "complaint";
  options($("#channel"), Object.entries(L.channel));
  options($("#urgency"), Object.entries(L.urgency));
  $("#urgency").value = "normal";
  const districts = u.list.filter((x) => x.tier === "district");
  options($("#district"), districts.map((d) => [d.id, d.name]), "按地址建议（可留空）");
  $("#district").addEventListener("change", fillStreets);
  fillStreets();
  options($("#category"), c.list.map((x) => [x.id, `${x.name}（${x.id}）`]), "按系统建议（可留空）");
  options($("#override_path"), [["", "采用系统建议"], ...Object.entries(L.path).filter(([k]) => k !== "emergency_transfer")]);
  $("#override_path").addEventListener("change", overrideChanged);
  let timer = null;
  const later = (fn, ms) => () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  $("#description").addEventListener("input", later(preview, 350));
  $("#addr").addEventListener("input", later(preview, 350));
  for (const id of ["#kind", "#emergency_service", "#category", "#district", "#street"]) $(id).addEventListener("change", preview);
  $("#phone").addEventListener("change", mergeCheck);
  $("#intake").addEventListener("submit", submit);
  $("#clear_form").addEventListener("click", reset); // not id="reset": it would hide the form's own reset()
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey && e.key === "Enter") { e.preventDefault(); $("#intake").requestSubmit(); }
    if (e.altKey && (e.key === "a" || e.key === "A")) { e.preventDefault(); accept(); }
    if (e.altKey && (e.key === "n" || e.key === "N")) { e.preventDefault(); reset(); }
  });
  if ($("#description").value.trim()) preview(); // typed while the page was still loading
}

function fillStreets() {
  const d = $("#district").value;
  const streets = (_units.list || []).filter((x) => x.tier === "street" && x.parent === d);
  options($("#street"), streets.map((s) => [s.id, s.name]), d ? "按地址建议（可留空）" : "先选择区");
}

function overrideChanged() {
  const p = $("#override_path").value;
  $("#override_reason_box").classList.toggle("hidden", !p || (triage && p === triage.suggestion.path));
}

// POST /triage with what the form holds so far: the description, the address text, and the
// district, street and category when the operator has chosen them (the routing follows them).
async function preview() {
  const description = $("#description").value.trim();
  if (description.length < 2) return;
  const q = { description, kind: $("#kind").value, emergency_service: $("#emergency_service").value || null,
              address: $("#addr").value.trim() };
  for (const k of ["district", "street", "category"]) if ($("#" + k).value) q[k] = $("#" + k).value;
  const asked = JSON.stringify(q);
  if (asked === preview.last) return;
  preview.last = asked;
  let t;
  try {
    t = await post("/triage", q);
  } catch (err) {
    preview.last = null;
    showError($("#suggestion"), err);
    return;
  }
  if (asked !== preview.last) return; // a newer question is on its way
  triage = t;
  renderTriage();
  overrideChanged();
  mergeCheck();
}

const pct = (x) => `${Math.round((x || 0) * 100)}%`;
const ref = (u) => (u ? `<b>${esc(u.name)}</b>` : `<span class="muted">—</span>`);

function renderTriage() {
  const t = triage, s = t.suggestion;
  $("#hints").innerHTML = t.emergency_hints.map((h) =>
    `<div class="alert" role="alert" data-hint="${esc(h.number)}">⚠ 疑似紧急情况：${esc(h.name)}（${esc(h.number)}）— 听到“${esc(h.matched.join("、"))}”${h.strength < 1 ? "（事后反映）" : ""}。
      如属实请在“转紧急救助”选择 ${esc(h.number)}。</div>`).join("");
  let html = `<p><b>建议路径：</b><span class="pill ${s.path === "dispatch" ? "blue" : "green"}" id="path" data-path="${esc(s.path)}">${lab("path", s.path)}</span>
    <span class="muted small">置信度 ${pct(s.confidence)} · ${esc(s.reason)}</span></p>`;
  if (s.article) html += `<h3>请向市民宣读（知识库：${esc(s.article.title)}）</h3><div class="script" id="read_out">${esc(s.article.answer)}</div>`;
  if (s.out_of_scope) html += `<h3>不属于热线受理范围：${esc(s.out_of_scope.name)}</h3><div class="script">${esc(s.out_of_scope.explanation)}</div>`;
  if (s.legal_channel) html += `<h3>引导法定途径：${esc(s.legal_channel.name)}</h3><div class="script">${esc(s.legal_channel.guidance)}</div>`;
  if (s.emergency) html += `<h3>转 ${esc(s.emergency.number)} ${esc(s.emergency.name)}</h3><div class="script">${esc(s.emergency.transfer_script)}</div>`;
  if (t.articles.length) {
    html += `<h3>知识库可能相关</h3><ul id="articles">` + t.articles.map((a) =>
      `<li>${esc(a.title)} <span class="muted small">覆盖 ${pct(a.coverage)} · ${esc(a.matched.join(" "))}</span></li>`).join("") + "</ul>";
  }
  $("#suggestion").innerHTML = html;
  $("#routing").innerHTML = routing(t);
  for (const b of $$("#routing [data-pick-category]")) b.onclick = () => { $("#category").value = b.dataset.pickCategory; preview(); };
  for (const b of $$("#routing [data-pick-street]")) b.onclick = () => { pickStreet(b.dataset.pickStreet); preview(); };
  if ($("#accept")) $("#accept").onclick = accept;
  // Overriding to a direct answer needs an article: offer the candidates.
  $("#override_path").dataset.article = (s.article && s.article.id) || (t.articles[0] && t.articles[0].id) || "";
}

// The suggested category (top three, with confidence), district and street (or that the address
// is ambiguous, with its candidates), and the lead and supervising units routing would give.
function routing(t) {
  const chosen = $("#category").value;
  suggestedFields = { category: t.categories[0] ? t.categories[0].id : null,
                      district: t.district ? t.district.id : null, street: t.street ? t.street.id : null };
  let html = `<h3>建议类别${t.model_version ? `<span class="muted small">（模型 v${t.model_version}）</span>` : ""}</h3>`;
  html += t.categories.length
    ? `<ol id="categories">${t.categories.slice(0, 3).map((c, i) =>
        `<li data-category="${esc(c.id)}"><button type="button" class="link" data-pick-category="${esc(c.id)}">${esc(c.name)}</button>
          <span class="pill ${i === 0 ? "blue" : ""}" data-confidence>${pct(c.confidence)}</span>
          ${c.id === chosen ? '<span class="pill green">已选</span>' : ""}</li>`).join("")}</ol>`
    : `<p class="muted" id="categories">暂无类别建议：请在表单中选择类别。</p>`;
  const a = t.address || {};
  html += `<h3>属地</h3><p id="place">区：<span id="s_district">${t.district ? esc(t.district.name) : "—"}</span> · 街道：<span id="s_street">${t.street ? esc(t.street.name) : "—"}</span>`;
  if (a.matched && a.matched.length) html += ` <span class="muted small">（据“${esc(a.matched.join("、"))}”）</span>`;
  html += `</p>`;
  if (a.ambiguous) {
    html += `<div class="notice" id="ambiguous">地址不明确（ambiguous）：符合多个街道，请与市民确认后选择——` +
      (a.candidates || []).map((c) => `<button type="button" data-pick-street="${esc(c.id)}">${esc(c.district_name)} ${esc(c.name)}</button>`).join(" ") + `</div>`;
  }
  html += `<h3>派单</h3><dl class="facts" id="units"><dt>承办单位</dt><dd id="s_lead">${ref(t.lead_unit)}
      ${t.routing_reason ? `<div class="muted small">${esc(t.routing_reason)}</div>` : ""}</dd>
    <dt>监管部门</dt><dd id="s_supervisor">${ref(t.supervisor_unit)}</dd></dl>`;
  if (suggestedFields.category || suggestedFields.street) {
    html += `<p><button type="button" id="accept">采用建议 (Alt+A)</button>
      <span class="muted small">类别、街道留空提交时按建议受理；改选将记为人工选择。</span></p>`;
  }
  return html;
}

function pickStreet(id) {
  const st = _units.byId[id];
  if (st && st.parent) { $("#district").value = st.parent; fillStreets(); }
  $("#street").value = id;
}

function accept() {
  const f = suggestedFields;
  if (f.category) $("#category").value = f.category;
  if (f.street) pickStreet(f.street);
  else if (f.district) { $("#district").value = f.district; fillStreets(); }
  $("#override_path").value = "";
  overrideChanged();
  preview();
}

async function mergeCheck() {
  const phone = $("#phone").value.trim(), text = $("#addr").value.trim();
  if (!phone && !text) return;
  const street = $("#street").value || suggestedFields.street || "";
  const category = $("#category").value || suggestedFields.category || "";
  const q = new URLSearchParams({ phone, text, street, category });
  const asked = (mergeCheck.asked = (mergeCheck.asked || 0) + 1);
  try {
    const rows = await get("/workbench/api/merge-candidates?" + q);
    if (asked !== mergeCheck.asked) return; // a later check (a fuller phone, a newer street) is on its way
    // A merge joins only a ticket of the same category: until the category is known (chosen, or
    // suggested by the triage preview) the list is the caller's open tickets, not a merge promise.
    const heading = category
      ? `<div class="notice">同一市民或同一地点、同一类别的在办工单：提交后将并入该工单（并单），不新建工单。</div>`
      : `<p class="muted">同一市民或同一地点的在办工单；确定类别后显示是否并单。</p>`;
    $("#merges").innerHTML = rows.length ? heading + ticketTable(rows)
      : `<p class="muted">${category ? "没有可并单的在办工单。" : "没有同一市民或同一地点的在办工单。"}</p>`;
  } catch (err) { showError($("#merges"), err); }
}

async function submit(e) {
  e.preventDefault();
  const f = formData(e.target);
  const body = {
    channel: f.channel, kind: f.kind, description: f.description, category: f.category || null, urgency: f.urgency,
    enterprise: f.enterprise, emergency_service: f.emergency_service || null,
    citizen: { name: f.name, phone: f.phone || null, callback_opt_out: f.callback_opt_out },
    address: { district: f.district, street: f.street, text: f.text },
  };
  const path = f.override_path;
  if (path && (!triage || path !== triage.suggestion.path)) {
    if ((f.override_reason || "").trim().length < 2) {
      showError($("#form_error"), "改变系统建议须填写理由");
      $("#override_reason").focus();
      return;
    }
    body.triage_override = { path, reason: f.override_reason.trim() };
    if (path === "direct_answer") body.triage_override.article_id = $("#override_path").dataset.article || null;
    if (path === "out_of_scope" && triage && triage.suggestion.out_of_scope) body.triage_override.out_of_scope_id = triage.suggestion.out_of_scope.id;
    if (path === "legal_channel" && triage && triage.suggestion.legal_channel) body.triage_override.legal_channel = triage.suggestion.legal_channel.id;
  }
  $("#submit").disabled = true;
  showError($("#form_error"), null);
  try {
    const created = await post("/tickets", body, { "Idempotency-Key": $("#intake").dataset.key || ($("#intake").dataset.key = newKey()) });
    await showResult(created, body);
    $("#intake").dataset.key = "";
  } catch (err) {
    showError($("#form_error"), err);
  } finally {
    $("#submit").disabled = false;
  }
}

async function showResult(created, body) {
  $("#result_card").hidden = false;
  const n = created.number;
  let html = `<div class="success"><b>${created.merged ? "已并入在办工单" : "已受理"}，工单号
    <a href="/ticket?n=${esc(n)}" id="result_number">${esc(n)}</a></b>${created.started ? "" : "（已记录，系统恢复后自动启动）"}</div>`;
  $("#result").innerHTML = html + `<p class="muted">正在派单……</p>`;
  let state = null;
  for (let i = 0; i < 12; i++) {
    try { state = await get("/tickets/" + encodeURIComponent(n)); } catch (e) { state = null; }
    if (state && (state.stage !== "intake")) break;
    await new Promise((r) => setTimeout(r, 400));
  }
  let say = `您反映的问题已受理，工单编号 ${n}。`;
  if (state) {
    const p = state.triage && state.triage.path;
    if (created.merged) say = `您反映的问题我们此前已受理（工单 ${n}），您这次的反映已一并转交承办单位，请耐心等待答复。`;
    else if (p === "direct_answer" && state.triage.article) say = state.triage.article.answer + `\n（工单编号 ${n}，本次已直接答复。）`;
    else if (p === "out_of_scope" && state.triage.out_of_scope) say = state.triage.out_of_scope.explanation;
    else if (p === "legal_channel" && state.triage.legal_channel) say = state.triage.legal_channel.guidance;
    else if (p === "emergency_transfer" && state.triage.emergency) say = state.triage.emergency.transfer_script;
    else if (state.lead_unit) {
      say += `我们已转交${state.unit_names[state.lead_unit] || state.lead_unit}办理`;
      if (state.deadline) say += `，办理时限至 ${new Date(state.deadline).toLocaleString("zh-CN", { hour12: false })}`;
      say += body.citizen.callback_opt_out ? "。" : "，办理完成后我们会回访您，也可凭工单号和电话在网上查询进度。";
    }
    html += `<dl class="facts"><dt>处理路径</dt><dd>${lab("path", p)}</dd><dt>承办单位</dt><dd>${esc(state.unit_names[state.lead_unit] || "—")}</dd>
      <dt>阶段</dt><dd>${lab("stage", state.stage)}</dd></dl>`;
  }
  $("#result").innerHTML = html + `<h3>请告知市民</h3><div class="script" id="tell_citizen">${esc(say)}</div>
    <button type="button" id="next_caller">下一位 (Alt+N)</button>`;
  $("#next_caller").onclick = reset;
}

function reset() {
  $("#intake").reset();
  $("#result_card").hidden = true;
  $("#intake").dataset.key = "";
  triage = null;
  preview.last = null;
  suggestedFields = {};
  $("#hints").innerHTML = "";
  $("#routing").innerHTML = "";
  $("#suggestion").innerHTML = `<p class="muted">输入诉求内容后显示建议的处理路径、知识库答复和紧急提示。</p>`;
  $("#merges").innerHTML = `<p class="muted">填写电话、详细地址或得到建议的属地后显示。</p>`;
  $("#kind").value = "complaint";
  $("#urgency").value = "normal";
  fillStreets();
  overrideChanged();
  $("#description").focus();
}

init();
