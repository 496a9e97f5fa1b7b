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
  options($("#district"), districts.map((d) => [d.id, d.name]), "请选择区");
  $("#district").addEventListener("change", fillStreets);
  fillStreets();
  options($("#category"), c.list.map((x) => [x.id, `${x.name}（${x.id}）`]), "请选择类别");
  options($("#override_path"), [["", "采用系统建议"], ...Object.entries(L.path).filter(([k]) => k !== "emergency_transfer")]);
  $("#override_path").addEventListener("change", overrideChanged);
  let timer = null;
  const later = (fn, ms) => () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  $("#description").addEventListener("input", later(preview, 350));
  $("#kind").addEventListener("change", preview);
  $("#emergency_service").addEventListener("change", preview);
  for (const id of ["#phone", "#addr", "#category", "#street"]) $(id).addEventListener("change", mergeCheck);
  $("#intake").addEventListener("submit", submit);
  $("#reset").addEventListener("click", reset);
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey && e.key === "Enter") { e.preventDefault(); $("#intake").requestSubmit(); }
    if (e.altKey && (e.key === "a" || e.key === "A")) { e.preventDefault(); accept(); }
    if (e.altKey && (e.key === "n" || e.key === "N")) { e.preventDefault(); reset(); }
  });
}

function fillStreets() {
  const d = $("#district").value;
  const streets = (_units.list || []).filter((x) => x.tier === "street" && x.parent === d);
  options($("#street"), streets.map((s) => [s.id, s.name]), d ? "请选择街道" : "先选择区");
}

function overrideChanged() {
  const p = $("#override_path").value;
  $("#override_reason_box").classList.toggle("hidden", !p || (triage && p === triage.suggestion.path));
}

async function preview() {
  const description = $("#description").value.trim();
  if (description.length < 2) return;
  try {
    triage = await post("/triage", { description, kind: $("#kind").value,
                                    emergency_service: $("#emergency_service").value || null });
  } catch (err) {
    showError($("#suggestion"), err);
    return;
  }
  renderTriage();
  overrideChanged();
}

function renderTriage() {
  const t = triage, s = t.suggestion;
  $("#hints").innerHTML = t.emergency_hints.map((h) =>
    `<div class="alert" role="alert">⚠ 疑似紧急情况：${esc(h.name)}（${esc(h.number)}）— 听到“${esc(h.matched.join("、"))}”。
      如属实请在“转紧急救助”选择 ${esc(h.number)}。</div>`).join("");
  let html = `<p><b>建议路径：</b><span class="pill ${s.path === "dispatch" ? "blue" : "green"}">${lab("path", s.path)}</span>
    <span class="muted small">置信度 ${Math.round((s.confidence || 0) * 100)}% · ${esc(s.reason)}</span></p>`;
  if (s.article) html += `<h3>请向市民宣读（知识库：${esc(s.article.title)}）</h3><div class="script" id="read_out">${esc(s.article.answer)}</div>`;
  if (s.out_of_scope) html += `<h3>不属于热线受理范围：${esc(s.out_of_scope.name)}</h3><div class="script">${esc(s.out_of_scope.explanation)}</div>`;
  if (s.legal_channel) html += `<h3>引导法定途径：${esc(s.legal_channel.name)}</h3><div class="script">${esc(s.legal_channel.guidance)}</div>`;
  if (s.emergency) html += `<h3>转 ${esc(s.emergency.number)} ${esc(s.emergency.name)}</h3><div class="script">${esc(s.emergency.transfer_script)}</div>`;
  // Suggested category / street / unit: shown when the triage answers with them.
  suggestedFields = {};
  const cat = t.category || (t.categories && t.categories[0]) || s.category;
  const street = t.street || (t.streets && t.streets[0]) || s.street;
  const unit = t.unit || (t.units && t.units[0]) || s.unit;
  const idOf = (x) => (x && typeof x === "object" ? x.id : x);
  if (cat) suggestedFields.category = idOf(cat);
  if (street) suggestedFields.street = idOf(street);
  const parts = [];
  if (cat) parts.push(`类别 <b>${esc(categoryName(idOf(cat)))}</b>`);
  if (street) parts.push(`属地 <b>${esc(unitName(idOf(street)))}</b>`);
  if (unit) parts.push(`承办 <b>${esc(unitName(idOf(unit)))}</b>`);
  if (parts.length) html += `<p>建议：${parts.join(" · ")} <button type="button" id="accept">采用 (Alt+A)</button></p>`;
  if (t.articles.length) {
    html += `<h3>知识库可能相关</h3><ul>` + t.articles.map((a) =>
      `<li>${esc(a.title)} <span class="muted small">覆盖 ${Math.round(a.coverage * 100)}% · ${esc(a.matched.join(" "))}</span></li>`).join("") + "</ul>";
  }
  $("#suggestion").innerHTML = html;
  if ($("#accept")) $("#accept").onclick = accept;
  // Overriding to a direct answer needs an article: offer the candidates.
  const sel = $("#override_path");
  sel.dataset.article = (s.article && s.article.id) || (t.articles[0] && t.articles[0].id) || "";
}

function accept() {
  const f = suggestedFields;
  if (f.category) $("#category").value = f.category;
  if (f.street) {
    const st = _units.byId[f.street];
    if (st && st.parent) { $("#district").value = st.parent; fillStreets(); }
    $("#street").value = f.street;
  }
  $("#override_path").value = "";
  overrideChanged();
  mergeCheck();
}

async function mergeCheck() {
  const phone = $("#phone").value.trim(), text = $("#addr").value.trim();
  if (!phone && !text) return;
  const q = new URLSearchParams({ phone, text, street: $("#street").value, category: $("#category").value });
  try {
    const rows = await get("/workbench/api/merge-candidates?" + q);
    $("#merges").innerHTML = rows.length
      ? `<div class="notice">同一市民或同一地点、同一类别的在办工单：提交后将并入该工单（并单），不新建工单。</div>` + ticketTable(rows)
      : `<p class="muted">没有可并单的在办工单。</p>`;
  } catch (err) { showError($("#merges"), err); }
}

async function submit(e) {
  e.preventDefault();
  const f = formData(e.target);
  const body = {
    channel: f.channel, kind: f.kind, description: f.description, category: f.category, urgency: f.urgency,
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
    <button type="button" onclick="reset()">下一位 (Alt+N)</button>`;
}

function reset() {
  $("#intake").reset();
  $("#intake").dataset.key = "";
  triage = null;
  $("#hints").innerHTML = "";
  $("#suggestion").innerHTML = `<p class="muted">输入诉求内容后显示建议的处理路径、知识库答复和紧急提示。</p>`;
  $("#merges").innerHTML = `<p class="muted">填写电话或详细地址后显示。</p>`;
  $("#kind").value = "complaint";
  $("#urgency").value = "normal";
  fillStreets();
  overrideChanged();
  $("#description").focus();
}

init();
