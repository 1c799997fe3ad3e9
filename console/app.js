// medbill staff console: a small static app (no framework, no build). It signs in against the
// staff user pool, calls the staff API with the ID token, and draws what the API computes: the
// numbers (queues, A/R aging, KPIs, stage times) come from the API, never from this file.
"use strict";

const HOLDS = ["ELIGIBILITY_HOLD", "CODING_HOLD"];
const QUEUES = [
  ["ELIGIBILITY_HOLD", "Eligibility holds"],
  ["CODING_HOLD", "Coding holds"],
  ["FOLLOW_UP", "Follow-up"],
  ["DENIED", "Denied"],
  ["FAILED", "Failed"],
];
const BUCKET_COLORS = ["#0b5cad", "#3f8fd9", "#e0a100", "#c8501e", "#8c1c13"];
let config = null;
let me = null;

// --- small helpers ------------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return el;
}
function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
function money(v) { return v === null || v === undefined ? "" : Number(v).toFixed(2); }
function say(text, error) {
  const m = document.getElementById("message");
  m.textContent = text || "";
  m.className = error ? "error" : "";
}
function table(caption, heads, rows, numeric) {
  const num = new Set(numeric || []);
  return h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, heads.map((x, i) => h("th", { scope: "col", class: num.has(i) ? "num" : null }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: num.has(i) ? "num" : null }, c))))));
}
function token() { return sessionStorage.getItem("medbill.idToken"); }

// --- sign-in: SRP + TOTP against the staff user pool (cognito.js) ---------------------------------
let answerChallenge = null;  // resolves the challenge form's promise

function ask(kind, detail) {
  const form = document.getElementById("challenge-form");
  document.getElementById("signin-form").hidden = true;
  form.hidden = false;
  document.getElementById("totp-setup").hidden = kind !== "totp-setup";
  document.getElementById("totp-field").hidden = kind === "new-password";
  document.getElementById("new-password-field").hidden = kind !== "new-password";
  if (kind === "totp-setup") {
    document.getElementById("totp-secret").textContent = detail.secret;
    document.getElementById("totp-uri").setAttribute("href", detail.uri);
  }
  const input = document.getElementById(kind === "new-password" ? "new-password" : "totp-code");
  input.value = "";
  input.required = true;
  input.focus();
  document.body.dataset.ready = `challenge:${kind}`;
  return new Promise((resolve) => { answerChallenge = () => resolve(input.value.trim()); });
}

function resetSignIn() {
  document.getElementById("challenge-form").hidden = true;
  document.getElementById("signin-form").hidden = false;
  for (const id of ["totp-code", "new-password"]) document.getElementById(id).required = false;
}

async function signIn(username, password) {
  try {
    const result = await cognitoSignIn(config, username, password, ask);
    sessionStorage.setItem("medbill.idToken", result.IdToken);
  } finally {
    resetSignIn();
  }
}

async function api(path, options) {
  const resp = await fetch(config.api_base.replace(/\/$/, "") + path, {
    ...(options || {}),
    headers: { Authorization: `Bearer ${token()}`, "Content-Type": "application/json" },
  });
  if (resp.status === 401) { signOut(); throw new Error("Your session ended: sign in again."); }
  const type = resp.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await resp.json() : await resp.text();
  if (!resp.ok) {
    const err = new Error((body && body.message) || `The API answered ${resp.status}`);
    err.status = resp.status;
    throw err;
  }
  return body;
}

async function all(path, max) {
  let items = [], next = null, pages = 0;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(path + sep + "limit=100" + (next ? `&next_token=${encodeURIComponent(next)}` : ""));
    items = items.concat(page.items);
    next = page.next_token;
  } while (next && ++pages < (max || 20));
  return items;
}

function signOut() {
  sessionStorage.removeItem("medbill.idToken");
  me = null;
  render();
}

// --- views --------------------------------------------------------------------------------------
async function queuesView() {
  const cards = [];
  for (const [status, label] of QUEUES) {
    const items = await all(`/claims?status=${status}`);
    const sum = items.reduce((s, c) => s + Number(c.total_charge || 0), 0);
    cards.push(h("li", {}, h("h3", {}, h("a", { href: `#/claims?status=${status}` }, label)),
      h("p", { class: "count" }, items.length), h("p", {}, `${money(sum)} billed`)));
  }
  const managers = ["billing_manager", "admin"].includes(me.role);
  if (managers) {
    const eras = await all("/eras");
    const quarantined = eras.filter((e) => e.era_status === "QUARANTINED");
    cards.push(h("li", {}, h("h3", {}, h("a", { href: "#/eras" }, "Quarantined ERAs")),
      h("p", { class: "count" }, quarantined.length),
      h("p", {}, `${money(quarantined.reduce((s, e) => s + Number(e.total_paid), 0))} paid`)));
    const unmatched = await all("/worklists/unmatched-remittance");
    cards.push(h("li", {}, h("h3", {}, h("a", { href: "#/unmatched" }, "Unmatched remittance")),
      h("p", { class: "count" }, unmatched.length),
      h("p", {}, `${money(unmatched.reduce((s, u) => s + Number(u.paid), 0))} paid`)));
  }
  const followUp = await all("/claims?status=FOLLOW_UP");
  const byAction = {};
  for (const c of followUp) {
    const k = c.follow_up_action || "unassigned";
    byAction[k] = byAction[k] || { n: 0, sum: 0 };
    byAction[k].n += 1;
    byAction[k].sum += Number(c.total_charge || 0);
  }
  return [h("h2", {}, "Work queues"), h("ul", { class: "cards" }, cards),
    table("Follow-up by action", ["Action", "Claims", "Billed"],
      Object.entries(byAction).map(([k, v]) => [k, v.n, money(v.sum)]), [1, 2])];
}

async function claimsView(params) {
  const status = params.get("status") || "";
  const clinic = params.get("clinic") || "";
  const q = new URLSearchParams();
  if (status) q.set("status", status);
  if (clinic) q.set("clinic", clinic);
  const items = await all(`/claims${q.toString() ? "?" + q : ""}`, 5);
  return [h("h2", {}, status ? `Claims: ${status}` : "Claims"),
    table(`${items.length} claims`, ["Claim", "Clinic", "Payer", "Service date", "Status", "Billed", "Paid"],
      items.map((c) => [h("a", { href: `#/claim/${encodeURIComponent(c.claim_id)}` }, c.claim_id), c.clinic_id,
        c.payer_id, c.date_of_service, c.status, money(c.total_charge), money(c.paid_amount)]), [5, 6])];
}

async function claimView(id) {
  const c = await api(`/claims/${encodeURIComponent(id)}`);
  const ledger = await api(`/claims/${encodeURIComponent(id)}/ledger`);
  const actions = h("div", {});
  if (HOLDS.includes(c.status)) {
    actions.append(h("button", { type: "button", id: "recheck", onclick: async () => {
      try {
        const r = await api(`/claims/${encodeURIComponent(id)}/recheck`, { method: "POST" });
        await route();  // the timeline now names who rechecked
        say(`Recheck sent: claim ${r.claim_id} goes through ${r.status === "CODING_HOLD" ? "coding" : "eligibility"} again.`);
      } catch (e) { say(e.message, true); }
    } }, "Recheck hold"));
  }
  if (c.status === "FAILED") {
    actions.append(h("button", { type: "button", id: "retry", onclick: async () => {
      try {
        const r = await api(`/claims/${encodeURIComponent(id)}/retry`, { method: "POST" });
        await route();  // the timeline now names who retried
        say(`Retry started: claim ${r.claim_id} carries on from ${r.status} (attempt ${r.attempt}).`);
      } catch (e) { say(e.message, true); }
    } }, "Retry"));
  }
  if ((c.resent_changes || []).length) {
    // The clinic re-sent this encounter with other content (field names only, never values).
    const resolve = (action, label) => h("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        await api(`/claims/${encodeURIComponent(id)}/resent-changes/resolve`, { method: "POST", body: JSON.stringify({ action }) });
        await route();
        say(`Re-sent changes resolved (${action}).`);
      } catch (e) { say(e.message, true); }
    } }, label);
    actions.append(h("p", {}, `Re-sent with changes to: ${c.resent_changes.join(", ")}`),
      resolve("keep", "Keep first copy"), resolve("corrected", "Mark corrected"));
  }
  return [h("h2", {}, `Claim ${c.claim_id}`),
    h("dl", {}, [["Status", c.status], ["Clinic", c.clinic_id], ["Payer", c.payer_id],
      ["Service date", c.date_of_service], ["Billed", money(c.total_charge)], ["Paid", money(c.paid_amount)],
      ["Adjusted", money(c.adjustment_amount)], ["Patient owes", money(c.patient_responsibility)],
      ["Hold reasons", (c.hold_reasons || []).join("; ") || "none"], ["Follow-up", c.follow_up_action || "none"],
    ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("h3", {}, "Actions"), actions,
    table("Lines", ["Line", "Code", "Modifiers", "Units", "Charge", "Paid"],
      c.lines.map((l) => [l.line_number, l.procedure_code, l.modifiers.join(" "), l.units, money(l.charge),
        money(l.paid_amount)]), [4, 5]),
    table("Timeline", ["When", "Who", "From", "To"],
      c.timeline.map((e) => [e.at, e.actor, e.old_status || "", e.new_status])),
    table("Ledger", ["Posted", "Kind", "ERA", "Paid", "Superseded by"],
      ledger.entries.map((e) => [e.posted_at, e.kind, e.era_id || "", money(e.paid), e.superseded_by || ""]), [3])];
}

async function erasView() {
  const eras = await all("/eras");
  return [h("h2", {}, "ERAs"),
    table(`${eras.length} ERA payments`, ["ERA", "Payer", "Status", "Paid", "Claims done"],
      eras.map((e) => [h("a", { href: `#/era/${encodeURIComponent(e.era_id)}` }, e.era_id), e.payer_name || e.payer_id || "",
        e.era_status, money(e.total_paid), `${e.claims_done} of ${e.claim_count}`]), [3])];
}

async function eraView(id) {
  const e = await api(`/eras/${encodeURIComponent(id)}`);
  // A file that is not UTF-8 is released with the encoding a person confirmed it is in.
  const encoding = e.encoding_unknown ? h("select", {}, ["latin-1", "windows-1252"].map((v) => h("option", { value: v }, v))) : null;
  const release = h("button", { type: "button", onclick: async () => {
    const query = encoding ? `?encoding=${encodeURIComponent(encoding.value)}` : "";
    try { await api(`/eras/${encodeURIComponent(id)}/release${query}`, { method: "POST" }); say("Released for posting."); }
    catch (err) { say(err.message, true); }
  } }, encoding ? "Release in this encoding" : "Release for posting");
  return [h("h2", {}, `ERA ${e.era_id}`),
    h("dl", {}, [["Status", e.era_status], ["Paid", money(e.total_paid)], ["Posted", money(e.posted_total)],
      ["Unmatched", money(e.unmatched_total)], ["Difference", money(e.difference)],
      ["Reconciled", e.reconciled ? "yes" : "no"], ["Problems", (e.problems || []).join("; ") || "none"],
    ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    e.era_status === "QUARANTINED" ? (encoding ? h("p", {}, [encoding, " ", release]) : release) : "",
    table("Claim payments", ["Position", "Claim", "Result", "Paid"],
      e.claims.map((c) => [c.position, c.claim_id || c.clp01 || "", c.result, money(c.paid)]), [0, 3])];
}

async function unmatchedView() {
  const items = await all("/worklists/unmatched-remittance");
  return [h("h2", {}, "Unmatched remittance"),
    table(`${items.length} waiting`, ["ERA", "Patient control no.", "Paid", "Match to claim"],
      items.map((u) => {
        const input = h("input", { id: `m-${u.remittance_id}`, "aria-label": `Claim id for ${u.clp01}` });
        const go = h("button", { type: "button", onclick: async () => {
          try {
            await api(`/worklists/unmatched-remittance/${encodeURIComponent(u.remittance_id)}/match`,
              { method: "POST", body: JSON.stringify({ claim_id: input.value.trim() }) });
            await route(); say("Matched and posted.");
          } catch (e) { say(e.message, true); }
        } }, "Match");
        return [u.era_id, u.clp01, money(u.paid), h("span", {}, input, " ", go)];
      }), [2])];
}

// --- upload an encounter file: presigned POST straight to S3, then the intake report ----------------
async function uploadView() {
  const clinics = me.all_clinics ? [] : me.clinics;
  const clinic = clinics.length
    ? h("select", { id: "upload-clinic", name: "clinic" }, clinics.map((c) => h("option", { value: c }, c)))
    : h("input", { id: "upload-clinic", name: "clinic", required: true, autocomplete: "off" });
  const file = h("input", { id: "upload-file", name: "file", type: "file", required: true,
    accept: ".json,.jsonl,.ndjson,.csv,.hl7,.txt" });
  const result = h("div", { id: "upload-result", "aria-live": "polite" });
  const form = h("form", { id: "upload-form", onsubmit: async (ev) => {
    ev.preventDefault();
    const f = file.files[0];
    const c = clinic.value.trim();
    if (!f || !c) return;
    try {
      const ticket = await api(`/clinics/${encodeURIComponent(c)}/uploads`,
        { method: "POST", body: JSON.stringify({ file_name: f.name, size: f.size }) });
      const body = new FormData();
      for (const [k, v] of Object.entries(ticket.fields)) body.append(k, v);
      body.append("file", f);  // last: S3 reads the fields before the file
      const sent = await fetch(ticket.url, { method: "POST", body });
      if (!sent.ok) throw new Error(`The upload was refused (${sent.status}).`);
      say(`Uploaded as ${ticket.upload_id}: intake is reading it.`);
      result.replaceChildren(await uploadReport(c, ticket.upload_id));
      document.body.dataset.ready = "#/upload:done";
    } catch (e) { say(e.message, true); }
  } },
    h("label", { for: "upload-clinic" }, "Clinic"), clinic,
    h("label", { for: "upload-file" }, "Encounter file (JSON, CSV or HL7)"), file,
    h("button", { type: "submit" }, "Upload"));
  return [h("h2", {}, "Upload encounters"), form, result];
}

async function uploadReport(clinic, uploadId) {
  const path = `/clinics/${encodeURIComponent(clinic)}/uploads/${encodeURIComponent(uploadId)}`;
  let report = null;
  for (let i = 0; i < 90 && !report; i++) {  // intake reads it within seconds; the report is its receipt
    try { report = await api(path); }
    catch (e) { if (e.status !== 404) throw e; await new Promise((r) => setTimeout(r, 2000)); }
  }
  if (!report) return h("p", {}, "Intake has not read the file yet: look again under Claims in a minute.");
  const counts = report.counts || {};
  return h("div", {},
    h("p", {}, `${counts.accepted ?? 0} of ${counts.records ?? 0} records accepted, ${counts.rejected ?? 0} rejected.`,
      report.file_error ? ` ${report.file_error}` : ""),
    table("Accepted", ["Record", "Encounter", "Claim"],
      (report.accepted || []).map((a) => [a.record_number, a.encounter_id,
        h("a", { href: `#/claim/${encodeURIComponent(a.claim_id)}` }, a.claim_id)])),
    table("Rejected", ["Record", "Field", "Reason"],
      (report.rejections || []).map((r) => [r.record_number, r.field || "", r.reason || ""])));
}

function agingChart(title, rows, buckets) {
  const width = 640, bar = 22, gap = 10, left = 150;
  const max = Math.max(1, ...rows.map((r) => Number(r.total)));
  const height = rows.length * (bar + gap) + 10;
  const label = rows.map((r) => `${r.key}: ${r.total}`).join("; ") || "no open A/R";
  const chart = svg("svg", { width, height, role: "img", "aria-label": `${title}. ${label}`, viewBox: `0 0 ${width} ${height}` },
    svg("title", {}, title));
  rows.forEach((r, i) => {
    const y = i * (bar + gap) + 5;
    chart.append(svg("text", { x: 0, y: y + bar - 6, "font-size": 13, fill: "#1b1f24" }, r.key));
    let x = left;
    buckets.forEach((b, j) => {
      const w = (Number(r.amounts[b]) / max) * (width - left - 90);
      if (w > 0) chart.append(svg("rect", { x, y, width: w, height: bar, fill: BUCKET_COLORS[j] }, svg("title", {}, `${b} days: ${r.amounts[b]}`)));
      x += w;
    });
    chart.append(svg("text", { x: x + 6, y: y + bar - 6, "font-size": 13, fill: "#1b1f24" }, r.total));
  });
  return h("figure", {}, h("figcaption", {}, title), chart);
}

async function download(path, name) {
  try {
    const text = await api(path);
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    h("a", { href: url, download: name }).click();
    URL.revokeObjectURL(url);
  } catch (e) { say(e.message, true); }
}

function rate(r) { return r.rate === null ? "n/a" : `${(Number(r.rate) * 100).toFixed(1)}% (${r.numerator} of ${r.denominator})`; }

async function reportsView() {
  const [aging, kpis, stages] = await Promise.all([api("/reports/ar-aging"), api("/reports/kpis"), api("/reports/stage-times")]);
  const legend = h("ul", { class: "legend", "aria-label": "Age buckets" },
    aging.buckets.map((b, j) => h("li", {},
      svg("svg", { width: 14, height: 14, "aria-hidden": "true", class: "swatch" }, svg("rect", { width: 14, height: 14, fill: BUCKET_COLORS[j] })),
      `${b} days`)));
  const csv = (name) => h("button", { type: "button", class: "secondary", onclick: () => download(`/reports/${name}?format=csv`, `${name}.csv`) }, `Download ${name} CSV`);
  const byAverage = [...stages.rows].sort((a, b) => Number(b.average_hours) - Number(a.average_hours));
  return [h("h2", {}, "Reports"),
    h("h3", {}, `A/R aging on ${aging.as_of}`), legend,
    agingChart("Open A/R by payer", aging.by_payer, aging.buckets),
    agingChart("Open A/R by clinic", aging.by_clinic, aging.buckets),
    csv("ar-aging"),
    h("h3", {}, "Workflow KPIs"),
    table("KPIs", ["Measure", "Value"], [
      ["Clean-claim rate", rate(kpis.clean_claim_rate)],
      ["First-pass resolution rate", rate(kpis.first_pass_resolution_rate)],
      ["Denial rate", rate(kpis.denial_rate)],
      ...Object.entries(kpis.denial_rate_by_carc).map(([carc, r]) => [`Denial rate, CARC ${carc}`, rate(r)]),
      ["Days in A/R", kpis.days_in_ar.days ?? "n/a"],
      ["Touchless rate", rate(kpis.touchless_rate)],
    ]),
    csv("kpis"),
    h("h3", {}, "Time in each stage (slowest first)"),
    table("Stage times", ["Clinic", "Payer", "Stage", "Stays", "Average hours", "Longest hours"],
      byAverage.map((r) => [r.clinic_id, r.payer_id, r.stage, r.stays, r.average_hours, r.max_hours]), [3, 4, 5]),
    csv("stage-times")];
}

// --- routing ------------------------------------------------------------------------------------
async function route() {
  const view = document.getElementById("view");
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  let content;
  try {
    if (parts[0] === "claims") content = await claimsView(params);
    else if (parts[0] === "claim") content = await claimView(decodeURIComponent(parts[1]));
    else if (parts[0] === "eras") content = await erasView();
    else if (parts[0] === "era") content = await eraView(decodeURIComponent(parts[1]));
    else if (parts[0] === "unmatched") content = await unmatchedView();
    else if (parts[0] === "reports") content = await reportsView();
    else if (parts[0] === "upload") content = await uploadView();
    else content = await queuesView();
  } catch (e) {
    content = [h("h2", {}, e.status === 404 ? "Not found" : "Not available"), h("p", { class: "error" }, e.message)];
  }
  view.replaceChildren(...content);
  document.body.dataset.ready = location.hash || "#/";
}

async function render() {
  const signedIn = Boolean(token());
  document.getElementById("signin").hidden = signedIn;
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("signout").hidden = !signedIn;
  if (!signedIn) {
    document.getElementById("who").textContent = "";
    document.getElementById("view").replaceChildren();
    document.body.dataset.ready = "signin";
    return;
  }
  try {
    me = await api("/me");
  } catch (e) { say(e.message, true); return; }
  document.getElementById("who").textContent =
    `${me.name} (${me.role}; ${me.all_clinics ? "every clinic" : me.clinics.join(", ")})`;
  await route();
}

window.addEventListener("hashchange", () => { say(""); if (token()) route(); });
window.addEventListener("DOMContentLoaded", async () => {
  config = await (await fetch("config.json")).json();
  document.getElementById("signout").addEventListener("click", signOut);
  document.getElementById("signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    say("");
    try { await signIn(f.username.value.trim(), f.password.value); say(""); await render(); }
    catch (e) { say(e.message, true); document.body.dataset.ready = "signin"; }
  });
  document.getElementById("challenge-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (answerChallenge) answerChallenge();
  });
  await render();
});
