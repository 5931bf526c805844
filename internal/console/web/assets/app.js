// Flok Console: pages drawn from the console's JSON API. Every text is set with
// textContent (never HTML), and every change sends the CSRF token the server set.
"use strict";

const state = { session: null, stream: null, timers: [] };

// el makes an element: el("td", {class: "x"}, "text", child, …).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function csrf() {
  const m = document.cookie.match(/(?:^|; )flok-csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

// api fetches JSON; a refusal throws the server's message (the API server's reason).
async function api(path, options) {
  const opts = Object.assign({ headers: {} }, options || {});
  if (opts.method && opts.method !== "GET") opts.headers["X-Flok-Csrf"] = csrf();
  if (opts.body && typeof opts.body !== "string") {
    opts.body = JSON.stringify(opts.body);
    opts.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(path, opts);
  const type = res.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await res.json() : await res.text();
  if (!res.ok) {
    const err = new Error(body && body.error ? body.error : String(body));
    err.status = res.status;
    err.reason = body && body.reason;
    throw err;
  }
  return body;
}

function clearPage() {
  if (state.stream) { state.stream.close(); state.stream = null; }
  state.timers.forEach(clearInterval);
  state.timers = [];
}

function age(t) {
  if (!t) return "–";
  const s = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
  if (s < 90) return Math.round(s) + "s";
  if (s < 5400) return Math.round(s / 60) + "m";
  if (s < 172800) return Math.round(s / 3600) + "h";
  return Math.round(s / 86400) + "d";
}

function stateSpan(s) { return el("span", { class: "state-" + (s || "none") }, s || "–"); }

function banner(kind, text) { return el("div", { class: "banner " + kind, role: kind === "error" ? "alert" : "status" }, text); }

function resourcePath(row) { return "#/" + [row.namespace, row.resource, row.name].map(encodeURIComponent).join("/"); }

// ---- overview ----

function overviewPage(main, params) {
  const ns = params.get("namespace") || state.session.namespace;
  const filters = { state: params.get("state") || "", text: params.get("q") || "" };
  const nsSelect = el("select", { id: "ns", "aria-label": "Namespace" });
  const nsInput = el("input", { id: "ns-other", placeholder: "other namespace", "aria-label": "Other namespace", size: 16 });
  const stateSelect = el("select", { id: "state-filter", "aria-label": "State" },
    ["", "problems", "RUNNING", "STABLE", "SUSPENDED", "UPGRADING", "FAILED"].map(s => el("option", { value: s, selected: s === filters.state }, s || "any state")));
  const textInput = el("input", { id: "text-filter", type: "search", placeholder: "filter by name", value: filters.text, "aria-label": "Filter by name" });
  const status = el("p", { class: "muted", id: "overview-status", "aria-live": "polite" }, "Connecting…");
  const body = el("tbody");
  const table = el("table", { id: "overview" },
    el("thead", {}, el("tr", {}, ["Namespace", "Name", "Kind", "Mode", "Flink", "Lifecycle", "Job", "Uptime", "Last checkpoint", "Last savepoint", "Problem"].map(h => el("th", { scope: "col" }, h)))),
    body);
  main.replaceChildren(el("h1", {}, "Flink jobs"),
    el("div", { class: "filters" }, nsSelect, nsInput, stateSelect, textInput), status, el("div", { class: "card" }, table));

  let rows = [];
  const go = () => {
    const p = new URLSearchParams({ namespace: nsSelect.value === "" ? nsInput.value || ns : nsSelect.value });
    if (stateSelect.value) p.set("state", stateSelect.value);
    if (textInput.value) p.set("q", textInput.value);
    location.hash = "#/?" + p.toString();
  };
  nsSelect.addEventListener("change", go);
  nsInput.addEventListener("change", () => { nsSelect.value = ""; go(); });
  const draw = () => {
    const want = stateSelect.value, text = textInput.value.toLowerCase();
    const shown = rows.filter(r => (!want || (want === "problems" ? !!r.problem : r.lifecycle === want || r.jobState === want)) &&
      (!text || (r.namespace + "/" + r.name).toLowerCase().includes(text)));
    body.replaceChildren(...shown.map(r => el("tr", { class: r.problem ? "problem" : "", "data-name": r.name },
      el("td", {}, r.namespace), el("td", {}, el("a", { href: resourcePath(r) }, r.name)), el("td", {}, r.kind), el("td", {}, r.mode),
      el("td", {}, r.flinkVersion), el("td", {}, stateSpan(r.lifecycle), r.operation ? el("div", { class: "muted" }, r.operation) : null),
      el("td", {}, stateSpan(r.jobState)), el("td", {}, r.jobStarted ? age(r.jobStarted) : "–"),
      el("td", {}, r.lastCheckpoint ? age(r.lastCheckpoint) + " ago" : "–"), el("td", {}, r.lastSavepoint || "–"),
      el("td", { class: "problem-text" }, r.problem || ""))));
    status.textContent = shown.length + " of " + rows.length + " shown · live";
  };
  stateSelect.addEventListener("change", draw);
  textInput.addEventListener("input", draw);

  api("/api/namespaces").then(n => {
    const names = n.names.includes(ns) || ns === "*" ? n.names : [ns, ...n.names];
    nsSelect.replaceChildren(...(n.all ? [el("option", { value: "*" }, "all namespaces")] : []),
      ...names.map(x => el("option", { value: x }, x)), el("option", { value: "" }, "other…"));
    nsSelect.value = ns;
  }).catch(e => status.textContent = e.message);

  state.stream = new EventSource("/api/live?namespace=" + encodeURIComponent(ns));
  state.stream.addEventListener("rows", e => { rows = JSON.parse(e.data); draw(); });
  state.stream.addEventListener("refused", e => { state.stream.close(); main.prepend(banner("error", "No longer live: " + JSON.parse(e.data).error)); });
  state.stream.onerror = () => {
    // A refusal ends the stream: ask once to show the API server's reason.
    api("/api/overview?namespace=" + encodeURIComponent(ns)).then(r => { rows = r; draw(); status.textContent += " (reconnecting)"; })
      .catch(e => main.prepend(banner("error", e.message)));
  };
}

// ---- a deployment ----

const actionLabels = {
  savepoint: ["Savepoint", "Take a savepoint of the running job."],
  suspend: ["Suspend", "Stop the job keeping its state (per its upgradeMode) and remove its cluster."],
  resume: ["Resume", "Start the job again from the state it was suspended with."],
  restart: ["Restart", "Restart the job with the same spec (a new restartNonce)."],
  scale: ["Change parallelism", "Upgrade the job to a new parallelism, carrying its state per its upgradeMode."],
  delete: ["Delete", "Delete the resource, its cluster and its job."],
};

function confirmAction(action, row) {
  const dialog = document.getElementById("confirm");
  const [title, text] = actionLabels[action];
  document.getElementById("confirm-title").textContent = title + ": " + row.namespace + "/" + row.name;
  document.getElementById("confirm-text").textContent = text;
  const fields = document.getElementById("confirm-fields");
  fields.replaceChildren();
  if (action === "scale") fields.append(el("label", {}, "Parallelism ", el("input", { type: "number", min: 1, id: "confirm-parallelism", value: row.parallelism || 1, required: true })));
  if (action === "delete" && row.jobState === "RUNNING") fields.append(el("label", {}, el("input", { type: "checkbox", id: "confirm-savepoint" }), " stop the job with a savepoint first"));
  return new Promise(resolve => {
    dialog.onclose = () => {
      if (dialog.returnValue !== "ok") return resolve(null);
      const body = {};
      if (action === "scale") body.parallelism = Number(document.getElementById("confirm-parallelism").value);
      const sp = document.getElementById("confirm-savepoint");
      if (sp) body.savepoint = sp.checked;
      resolve(body);
    };
    dialog.returnValue = "";
    dialog.showModal();
  });
}

function actionButtons(row, message) {
  const running = row.jobState === "RUNNING";
  const suspended = row.lifecycle === "SUSPENDED";
  const isJob = row.kind !== "session";
  const shown = [
    isJob && running && "savepoint", isJob && !suspended && "suspend", isJob && suspended && "resume",
    isJob && !suspended && "restart", isJob && "scale", "delete"].filter(Boolean);
  return el("div", { class: "actions", role: "group", "aria-label": "Actions" }, shown.map(a => el("button", {
    type: "button", id: "action-" + a, class: a === "delete" ? "danger" : "",
    onclick: async () => {
      const body = await confirmAction(a, row);
      if (!body) return;
      message.replaceChildren(banner("info", actionLabels[a][0] + " asked; the page follows the operator's progress."));
      try {
        await api("/api/resources/" + [row.namespace, row.resource, row.name].map(encodeURIComponent).join("/") + "/" + a, { method: "POST", body });
      } catch (e) {
        message.replaceChildren(banner("error", actionLabels[a][0] + " refused: " + e.message));
      }
    },
  }, actionLabels[a][0])));
}

function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.filter(p => p[1] !== undefined && p[1] !== null && p[1] !== "").map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

// checkpointChart draws each checkpoint's duration as a bar (failed ones red,
// savepoints amber) and its size as a line.
function checkpointChart(cps) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 800 220");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Checkpoint durations and sizes");
  const mk = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  const left = 50, right = 750, top = 10, bottom = 190;
  const maxDur = Math.max(1, ...cps.map(c => c.durationMs || 0));
  const maxSize = Math.max(1, ...cps.map(c => c.size || 0));
  const w = (right - left) / Math.max(cps.length, 1);
  mk("line", { class: "axis", x1: left, y1: bottom, x2: right, y2: bottom });
  mk("text", { x: 2, y: top + 10 }, maxDur + " ms");
  mk("text", { x: right + 4, y: top + 10 }, fmtBytes(maxSize));
  const points = [];
  cps.forEach((c, i) => {
    const h = ((c.durationMs || 0) / maxDur) * (bottom - top);
    const cls = "bar" + (c.status === "FAILED" ? " failed" : c.savepoint ? " savepoint" : "");
    const bar = mk("rect", { class: cls, x: left + i * w + 1, y: bottom - Math.max(h, 2), width: Math.max(w - 2, 1), height: Math.max(h, 2), "data-id": c.id });
    const title = document.createElementNS(NS, "title");
    title.textContent = "job " + c.jobId.slice(0, 8) + " #" + c.id + " " + c.status + (c.savepoint ? " savepoint" : "") + ", " + (c.durationMs || 0) + " ms, " + fmtBytes(c.size || 0) + (c.failure ? ": " + c.failure : "");
    bar.append(title);
    const size = c.size || 0;
    points.push((left + i * w + w / 2) + "," + (bottom - (size / maxSize) * (bottom - top)));
    if (cps.length <= 20 || i % Math.ceil(cps.length / 20) === 0) mk("text", { x: left + i * w + w / 2 - 6, y: bottom + 14 }, "#" + c.id);
  });
  if (points.length > 1) mk("polyline", { class: "size", points: points.join(" ") });
  return svg;
}

function fmtBytes(n) {
  if (n < 1024) return n + " B";
  if (n < 1048576) return (n / 1024).toFixed(1) + " KiB";
  return (n / 1048576).toFixed(1) + " MiB";
}

function when(ms) { return ms ? new Date(ms).toLocaleString() : "–"; }

async function detailPage(main, ns, resource, name) {
  const base = "/api/resources/" + [ns, resource, name].map(encodeURIComponent).join("/");
  const message = el("div", { id: "message", "aria-live": "polite" });
  const top = el("div");
  const flinkPart = el("div", { id: "flink" }, el("p", { class: "muted" }, "Asking Flink…"));
  const logPart = el("div", { id: "log" });
  main.replaceChildren(el("p", {}, el("a", { href: "#/?namespace=" + encodeURIComponent(ns) }, "← " + ns)), message, top, flinkPart, logPart);

  let lastVersion = "";
  const drawDetail = async () => {
    let d;
    try { d = await api(base); } catch (e) { top.replaceChildren(banner("error", e.message)); return; }
    lastVersion = d.row.resourceVersion;
    top.replaceChildren(...detailParts(d, message, logPart));
  };
  const drawFlink = async () => {
    try { flinkPart.replaceChildren(...flinkParts(await api(base + "/flink"))); } catch (e) { flinkPart.replaceChildren(banner("error", "Flink: " + e.message)); }
  };
  await drawDetail();
  drawFlink();
  state.timers.push(setInterval(drawFlink, 10000));
  // The namespace's live rows say when this resource changed.
  state.stream = new EventSource("/api/live?namespace=" + encodeURIComponent(ns));
  state.stream.addEventListener("refused", e => { state.stream.close(); message.replaceChildren(banner("error", "No longer live: " + JSON.parse(e.data).error)); });
  state.stream.addEventListener("rows", e => {
    const row = JSON.parse(e.data).find(r => r.resource === resource && r.name === name);
    if (!row) { top.replaceChildren(banner("info", name + " is gone from " + ns + ".")); return; }
    if (row.resourceVersion !== lastVersion) drawDetail();
  });
}

function detailParts(d, message, logPart) {
  const r = d.row, obj = d.status.object, st = obj.status || {};
  const js = st.jobStatus || {};
  const parts = [el("h1", {}, r.name, " ", el("span", { class: "muted" }, r.kind + " in " + r.namespace))];
  if (r.problem) parts.push(banner("error", r.problem));
  parts.push(actionButtons(r, message));
  const op = st.operation;
  parts.push(el("div", { class: "grid2" },
    el("div", { class: "card" }, el("h2", {}, "Summary"), facts([
      ["Lifecycle", stateSpan(r.lifecycle)], ["Job", js.jobId ? [stateSpan(js.state), " ", js.jobId] : "–"],
      ["Mode", r.session ? "session job on " + r.session : r.mode + ", Flink " + r.flinkVersion],
      ["Parallelism", r.parallelism || "–"], ["Upgrade mode", (obj.spec.job || {}).upgradeMode || "–"],
      ["Uptime", r.jobStarted ? age(r.jobStarted) : "–"], ["Image", obj.spec.image],
      ["In progress", op ? op.kind + ", " + op.step + " since " + age(op.startTime) + (op.message ? ": " + op.message : "") : ""],
      ["Last savepoint", r.lastSavepoint], ["Error", st.error],
      ["Flink UI", r.kind === "session-job" && !r.session ? "" : el("a", { href: "/flink/" + encodeURIComponent(r.namespace) + "/" + encodeURIComponent(r.session || r.name) + "/", target: "_blank", rel: "noopener", id: "flink-ui" }, "open")],
    ])),
    el("div", { class: "card" }, el("h2", {}, "Conditions"), el("table", {}, el("tbody", {}, (st.conditions || []).map(c =>
      el("tr", {}, el("td", {}, c.type), el("td", {}, stateSpan(c.status)), el("td", {}, c.reason), el("td", {}, c.message))))))));
  const events = d.status.events || [];
  parts.push(el("div", { class: "card" }, el("h2", {}, "Events"), events.length ? el("ul", { class: "timeline", id: "events" }, events.slice().reverse().map(e =>
    el("li", { class: e.type }, el("span", { class: "muted" }, age(e.eventTime || e.deprecatedLastTimestamp || (e.metadata || {}).creationTimestamp) + " ago "), e.reason + ": " + (e.note || "")))) :
    el("p", { class: "muted" }, d.status.eventsError || "No recent events.")));
  const savepoints = (js.savepointInfo || {}).savepointHistory || [];
  const snaps = d.status.snapshots || [];
  parts.push(el("div", { class: "card" }, el("h2", {}, "Savepoints"), savepoints.length || snaps.length ? el("table", { id: "savepoints" },
    el("thead", {}, el("tr", {}, ["Completed", "Trigger", "Path"].map(h => el("th", { scope: "col" }, h)))),
    el("tbody", {}, savepoints.slice().reverse().map(s => el("tr", {}, el("td", {}, when(s.timeStamp)), el("td", {}, s.triggerType), el("td", {}, s.location))),
      snaps.filter(s => !savepoints.some(p => p.location === (s.status || {}).path)).map(s => el("tr", {}, el("td", {}, (s.status || {}).resultTimestamp || (s.status || {}).state || ""), el("td", {}, "snapshot " + s.metadata.name), el("td", {}, (s.status || {}).path || (s.status || {}).error || ""))))) :
    el("p", { class: "muted" }, "No savepoints yet.")));
  if (d.sessionJobs) {
    parts.push(el("div", { class: "card" }, el("h2", {}, "Session jobs"), el("table", {}, el("tbody", {}, d.sessionJobs.map(j =>
      el("tr", {}, el("td", {}, el("a", { href: resourcePath(j) }, j.name)), el("td", {}, stateSpan(j.lifecycle)), el("td", {}, stateSpan(j.jobState)))))),
      el("p", { class: "muted" }, ((st.session || {}).jobs || []).length + " jobs running in the cluster")));
  }
  parts.push(el("div", { class: "card" }, el("h2", {}, "Pods"), d.podsError ? banner("error", d.podsError) : el("table", { id: "pods" },
    el("thead", {}, el("tr", {}, ["Pod", "Component", "Phase", "Container", "State", "Restarts", "Last ended", "Log"].map(h => el("th", { scope: "col" }, h)))),
    el("tbody", {}, (d.pods || []).flatMap(p => (p.containers.length ? p.containers : [{ name: "" }]).map(c => el("tr", {},
      el("td", {}, p.name + (p.deleting ? " (deleting)" : "")), el("td", {}, p.component), el("td", {}, p.phase), el("td", {}, c.name),
      el("td", {}, c.state || ""), el("td", {}, c.restarts === undefined ? "" : c.restarts), el("td", {}, c.lastTermination || ""),
      el("td", {}, c.name ? [logButton(r.namespace, p.name, c.name, false, logPart), c.lastTermination ? [" ", logButton(r.namespace, p.name, c.name, true, logPart)] : null] : null))))))));
  return parts;
}

function logButton(ns, pod, container, previous, logPart) {
  return el("button", { type: "button", onclick: async () => {
    const path = "/api/logs/" + [ns, pod, container].map(encodeURIComponent).join("/") + (previous ? "?previous=true" : "");
    logPart.replaceChildren(el("div", { class: "card" }, el("h2", {}, (previous ? "Previous log of " : "Log of ") + pod + " / " + container), el("p", { class: "muted" }, "Loading…")));
    let text;
    try { text = await api(path); } catch (e) { text = e.message; }
    logPart.replaceChildren(el("div", { class: "card" }, el("h2", {}, (previous ? "Previous log of " : "Log of ") + pod + " / " + container), el("pre", { class: "log", tabindex: 0 }, text)));
    logPart.scrollIntoView();
  } }, previous ? "previous" : "current");
}

function flinkParts(f) {
  const cps = f.checkpoints || [];
  const parts = [el("div", { class: "card" }, el("h2", {}, "Checkpoints"), cps.length ? [checkpointChart(cps), el("table", { id: "checkpoints" },
    el("thead", {}, el("tr", {}, ["Job", "#", "Status", "Type", "Triggered", "Duration", "Size", "Path or failure"].map(h => el("th", { scope: "col" }, h)))),
    el("tbody", {}, cps.slice().reverse().map(c => el("tr", { class: c.status === "FAILED" ? "problem" : "" }, el("td", { title: c.jobId }, c.jobId.slice(0, 8)), el("td", {}, c.id), el("td", {}, stateSpan(c.status)),
      el("td", {}, c.savepoint ? "savepoint" : "checkpoint"), el("td", {}, when(c.triggered)), el("td", {}, (c.durationMs || 0) + " ms"),
      el("td", {}, fmtBytes(c.size || 0)), el("td", {}, c.failure || c.path || "")))))] :
    el("p", { class: "muted" }, f.checkpointsError || "No checkpoints yet."))];
  const ex = f.exceptions || [];
  parts.push(el("div", { class: "card" }, el("h2", {}, "Exceptions"), ex.length ? ex.map(e => el("details", {},
    el("summary", {}, when(e.timestamp) + " " + e.exceptionName + (e.taskName ? " in " + e.taskName : "")), el("pre", { class: "log" }, e.stacktrace))) :
    el("p", { class: "muted" }, f.exceptionsError || "No exceptions.")));
  const tms = f.taskManagers || [];
  parts.push(el("div", { class: "card" }, el("h2", {}, "TaskManagers"), tms.length ? el("table", { id: "taskmanagers" },
    el("thead", {}, el("tr", {}, ["TaskManager", "Slots", "Free", "Last heartbeat"].map(h => el("th", { scope: "col" }, h)))),
    el("tbody", {}, tms.map(t => el("tr", {}, el("td", {}, t.id), el("td", {}, t.slotsNumber), el("td", {}, t.freeSlots), el("td", {}, age(t.timeSinceLastHeartbeat) + " ago"))))) :
    el("p", { class: "muted" }, f.taskManagersError || "No TaskManagers.")));
  return parts;
}

// ---- sign-in and routing ----

function signInPage(main, error) {
  const token = el("textarea", { id: "token", rows: 4, cols: 60, "aria-label": "Token", required: true });
  const msg = el("div", { "aria-live": "polite" }, error ? banner("info", error) : null);
  main.replaceChildren(el("h1", {}, "Sign in"), msg,
    el("p", {}, "Paste a Kubernetes bearer token (", el("code", {}, "kubectl create token NAME"), "). Every page then shows and changes only what it may."),
    el("form", { onsubmit: async ev => {
      ev.preventDefault();
      try { await api("/api/login", { method: "POST", body: { token: token.value } }); route(true); } catch (e) { msg.replaceChildren(banner("error", e.message)); }
    } }, token, el("p", {}, el("button", { type: "submit", class: "primary" }, "Sign in"))));
}

async function route(reloadSession) {
  clearPage();
  const main = document.getElementById("main");
  if (!state.session || reloadSession) {
    try { state.session = await api("/api/session"); } catch (e) { main.replaceChildren(banner("error", e.message)); return; }
  }
  const s = state.session;
  const who = document.getElementById("viewer");
  who.replaceChildren(s.viewer ? "Signed in as " + s.viewer : "");
  if (s.viewer && s.signIn) who.append(" ", el("button", { type: "button", onclick: async () => { await api("/api/logout", { method: "POST" }); route(true); } }, "Sign out"));
  if (!s.viewer) { s.signIn ? signInPage(main, s.error) : main.replaceChildren(banner("error", s.error)); return; }
  const [path, query] = (location.hash.replace(/^#/, "") || "/").split("?");
  let parts;
  try { parts = path.split("/").filter(Boolean).map(decodeURIComponent); } catch (e) { parts = []; }
  if (parts.length === 3) return detailPage(main, ...parts);
  overviewPage(main, new URLSearchParams(query || ""));
}

window.addEventListener("hashchange", () => route(false));
window.addEventListener("DOMContentLoaded", () => route(true));
