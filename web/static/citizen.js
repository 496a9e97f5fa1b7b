// 市民自助查询: a ticket by its number and the phone it was filed with; follow it; rate the reply.
"use strict";
let current = null; // { number, phone }
const FOLLOW_KEY = "hotline.followed"; // numbers only: the phone is never stored

function followed() { try { return JSON.parse(localStorage.getItem(FOLLOW_KEY) || "[]"); } catch (e) { return []; } }
function showFollowed() {
  const list = followed();
  $("#followed").innerHTML = list.length ? "我关注的工单：" + list.map((n) => `<a href="#" data-n="${esc(n)}">${esc(n)}</a>`).join(" ") : "";
  for (const a of $$("#followed a")) a.onclick = (e) => { e.preventDefault(); $("#number").value = a.dataset.n; $("#phone").focus(); };
}

function render(t) {
  const follow = followed().includes(t.number);
  let html = `<div class="card"><h2>工单 ${esc(t.number)}</h2>
    <p><span class="pill blue" id="citizen_status">${esc(t.status)}</span> <span class="small muted">${fmtTime(t.received_at)} 受理</span></p>
    <dl class="facts"><dt>诉求</dt><dd>${esc(t.description)}</dd><dt>地点</dt><dd>${esc(t.place)}</dd>
      <dt>承办单位</dt><dd>${esc(t.handling_unit || "—")}</dd>
      ${t.deadline ? `<dt>办理时限</dt><dd>${new Date(t.deadline).toLocaleString("zh-CN", { hour12: false })}</dd>` : ""}</dl>
    ${t.reply ? `<h3>答复</h3><div class="script">${esc(t.reply)}</div>` : ""}
    <button type="button" id="follow">${follow ? "取消关注" : "关注此工单"}</button></div>
    <div class="card"><h2>办理进度</h2><ul class="timeline">${t.progress.slice().reverse().map((p) =>
      `<li><span class="at">${fmtTime(p.at)}</span>${esc(p.what)}</li>`).join("")}</ul></div>`;
  if (t.can_rate) {
    html += `<form class="card" id="rate"><h2>评价答复</h2>
      <label>问题是否解决<select name="resolved"><option value="true">已解决</option><option value="false">未解决</option></select></label>
      <label>满意度<select name="satisfaction">${Object.entries(L.satisfaction).map(([k, v]) => `<option value="${k}">${v}</option>`).join("")}</select></label>
      <label>意见（可选）<textarea name="comment" maxlength="1000"></textarea></label><div id="rate_error"></div>
      <button class="primary" type="submit" style="width:100%">提交评价</button></form>`;
  } else if (t.rating) {
    html += `<div class="card success">您的评价：${esc(lab("satisfaction", t.rating))}，感谢您的反馈。</div>`;
  }
  $("#ticket").innerHTML = html;
  $("#follow").onclick = () => {
    const list = followed().filter((n) => n !== t.number);
    if (!follow) list.unshift(t.number);
    localStorage.setItem(FOLLOW_KEY, JSON.stringify(list.slice(0, 10)));
    showFollowed();
    render(t);
  };
  if ($("#rate")) $("#rate").onsubmit = rate;
}

async function lookup() {
  const t = await post(`/public/tickets/${encodeURIComponent(current.number)}/lookup`, { phone: current.phone });
  render(t);
}

async function rate(e) {
  e.preventDefault();
  const f = formData(e.target);
  try {
    const t = await post(`/public/tickets/${encodeURIComponent(current.number)}/rating`,
      { phone: current.phone, resolved: f.resolved === "true", satisfaction: f.satisfaction, comment: f.comment });
    render(t);
  } catch (err) { showError($("#rate_error"), err); }
}

$("#lookup").addEventListener("submit", async (e) => {
  e.preventDefault();
  current = { number: $("#number").value.trim(), phone: $("#phone").value.trim() };
  try {
    showError($("#lookup_error"), null);
    await lookup();
  } catch (err) {
    $("#ticket").innerHTML = "";
    showError($("#lookup_error"), err.status === 404 ? "没有找到：请核对工单编号和反映时留的电话。" : err);
  }
});
// While the ticket is open on screen, it follows its progress.
setInterval(() => { if (current && $("#citizen_status") && !document.hidden && !$("#rate:focus-within")) lookup().catch(() => {}); }, 30000);
showFollowed();
