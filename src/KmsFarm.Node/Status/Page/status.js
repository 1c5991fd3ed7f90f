// KmsFarm status page: reads /api/status and /api/activations (same origin, the login cookie when a token is required)
// and renders them with textContent only: machine names and the like come from clients and are never parsed as HTML.
"use strict";

const refreshMs = 5000;

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fill(tableId, items, render) {
  const body = document.querySelector("#" + tableId + " tbody");
  const rows = items.map(item => { const tr = document.createElement("tr"); render(tr, item); return tr; });
  body.replaceChildren(...rows);
}

function time(iso) {
  return iso ? new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : "";
}

function minutes(m) {
  return m % 1440 === 0 ? (m / 1440) + " d (" + m + " min)" : m + " min";
}

function statuses(byLicenseStatus) {
  return Object.entries(byLicenseStatus).map(([k, v]) => k + " " + v).join(", ");
}

async function getJson(path) {
  const response = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (response.status === 401) throw new Error("the admin token is required again: reload the page and log in");
  if (!response.ok) throw new Error(path + ": HTTP " + response.status + " " + (await response.text()).trim());
  return response.json();
}

async function refresh() {
  const error = document.getElementById("error");
  try {
    const [status, activations] = await Promise.all([getJson("/api/status"), getJson("/api/activations?limit=20")]);
    document.getElementById("summary").textContent =
      "Farm " + status.farm.clusterId + " (" + status.farm.store + " store, host build " + status.farm.hostBuild +
      "), answered by node " + status.node + " at " + time(status.generated);
    fill("groups", status.groups, (tr, g) => {
      tr.dataset.group = g.group;
      tr.className = g.state.replace(" ", "-");
      cell(tr, g.name);
      cell(tr, g.state, "state");
      cell(tr, g.host ?? "");
      cell(tr, g.currentCount, "num count");
      cell(tr, g.threshold, "num threshold");
      cell(tr, g.capacity, "num capacity");
      cell(tr, g.epid ?? "", "epid");
      cell(tr, minutes(g.activationIntervalMinutes));
      cell(tr, minutes(g.renewalIntervalMinutes));
      cell(tr, g.requests.received, "num received");
      cell(tr, g.requests.failed, "num failed");
    });
    fill("totals", [status.totals], (tr, t) => {
      cell(tr, t.received, "num received");
      cell(tr, t.activated, "num activated");
      cell(tr, t.failed, "num failed");
      cell(tr, statuses(t.byLicenseStatus));
    });
    fill("silos", status.silos, (tr, s) => {
      tr.dataset.silo = s.name;
      cell(tr, s.name);
      cell(tr, s.address);
      cell(tr, s.hostName);
      cell(tr, s.status, "status");
      cell(tr, time(s.started));
      cell(tr, time(s.lastIAmAlive));
    });
    fill("activations", activations.items, (tr, a) => {
      if (!a.activated) tr.className = "failed";
      cell(tr, time(a.time));
      cell(tr, a.node);
      cell(tr, a.machineName, "machine");
      cell(tr, a.clientAddress);
      cell(tr, a.product ?? a.skuId);
      cell(tr, a.group ?? "");
      cell(tr, a.licenseStatus);
      cell(tr, a.result);
      cell(tr, a.currentCount ?? "", "num");
    });
    error.hidden = true;
    document.body.dataset.loaded = "true";
  } catch (e) {
    error.textContent = "Could not refresh: " + e.message;
    error.hidden = false;
  } finally {
    setTimeout(refresh, refreshMs);
  }
}

document.addEventListener("DOMContentLoaded", refresh);
