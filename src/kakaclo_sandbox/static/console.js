// The sandbox console: renders the control surface's live feed and acts through the
// public API (Refund Order) and the control surface (clock, reset). Every value from
// the server is set as text, never as HTML.
"use strict";

const API = "/openapi/openapi/v2/order/orders";
const token = new URLSearchParams(location.search).get("token") || "demo-token";
const $ = (id) => document.getElementById(id);
// what a user has typed, by "orderId/lineId" (or "orderId/remark"): kept across re-renders
const typed = {};

function say(text, isError = false) {
  const said = $("said");
  said.textContent = text;
  said.className = isError ? "said error" : "said";
}

async function call(method, url, body, withToken) {
  const headers = {};
  if (withToken) headers["Authorization"] = "Bearer " + token;
  // the control surface takes only JSON POSTs, body-less ones included (CSRF)
  if (body !== undefined || method === "POST") headers["Content-Type"] = "application/json";
  const answer = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let json = null;
  try { json = await answer.json(); } catch (e) { json = null; }
  if (!answer.ok || !json || json.code !== 10000) {
    const message = json && json.message ? json.message : answer.status + " " + answer.statusText;
    throw new Error((json && json.code ? json.code + ": " : "") + message);
  }
  return json.data;
}

async function refund(orderId, body, form) {
  try {
    const number = await call("POST", `${API}/${encodeURIComponent(orderId)}/refund`, body, true);
    for (const key of Object.keys(typed)) if (key.startsWith(orderId + "/")) delete typed[key];
    const shown = $("order-" + orderId);  // the form may have been re-rendered meanwhile
    for (const input of (shown || form).querySelectorAll("input")) {
      input.value = input.type === "number" ? "0" : "";
    }
    say(`refund ${number} created for order ${orderId} (pending_review)`);
  } catch (error) {
    say(`order ${orderId}: ${error.message}`, true);
  }
}

const LABELS = ["itemId", "skuCode", "countryCode", "pieces", "refundable", "refund"];

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "-" : String(text);
  if (className) td.className = className;
  td.dataset.label = LABELS[row.cells.length];  // a narrow screen shows it before the value
  row.appendChild(td);
  return td;
}

function renderOrder(order) {
  const section = $("order-template").content.firstElementChild.cloneNode(true);
  section.id = "order-" + order.id;
  section.dataset.orderId = order.id;
  section.querySelector(".order-id").textContent = order.id;
  section.querySelector(".order-status").textContent =
    `${order.status} · ${order.financialStatus} · ${order.fulfillmentStatus}` +
    (order.refundStatus ? ` · ${order.refundStatus}` : "");
  const refused = section.querySelector(".not-refundable");
  if (order.notRefundable) {
    refused.hidden = false;
    refused.textContent = `Cannot be refunded: ${order.notRefundable}.`;
  }
  const tbody = section.querySelector("tbody");
  for (const line of order.orderItems) {
    const row = document.createElement("tr");
    row.dataset.lineId = line.id;
    cell(row, line.itemId, "key");
    cell(row, line.skuCode, "key");
    cell(row, line.countryCode, "key");
    cell(row, line.productNum);
    cell(row, line.refundable, "refundable");
    const input = document.createElement("input");
    input.type = "number"; input.min = "0"; input.max = String(line.refundable); input.value = "0";
    input.className = "quantity";
    input.setAttribute("aria-label", `pieces of ${line.itemId} ${line.skuCode} ${line.countryCode} to refund`);
    input.disabled = line.refundable === 0;
    const action = cell(row, "", "action");
    action.replaceChildren(input);
    if (line.notRefundable) {
      input.title = line.notRefundable;
      if (line.notRefundable !== order.notRefundable) {  // the order's reason is said once, above
        const why = document.createElement("small");
        why.className = "why";
        why.textContent = " " + line.notRefundable;
        action.append(why);
      }
    }
    tbody.appendChild(row);
  }
  const form = section.querySelector("form.refund");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const items = [];
    order.orderItems.forEach((line, index) => {
      const quantity = Number(tbody.rows[index].querySelector("input").value);
      if (quantity > 0) {
        items.push({ itemId: line.itemId, skuCode: line.skuCode, quantity, countryCode: line.countryCode });
      }
    });
    if (items.length === 0) { say(`order ${order.id}: choose at least one piece`, true); return; }
    const remark = form.querySelector(".remark").value;
    refund(order.id, remark ? { remark, orderItems: items } : { orderItems: items }, form);
  });
  const nothingLeft = order.orderItems.every((line) => line.refundable === 0);
  for (const button of section.querySelectorAll("form.refund button")) {
    button.disabled = nothingLeft;
    if (nothingLeft) button.title = order.notRefundable || "nothing is left to refund";
  }
  section.querySelector(".refund-whole").addEventListener("click", () => {
    const remark = form.querySelector(".remark").value;
    refund(order.id, remark ? { remark } : {}, form);
  });
  const timeline = section.querySelector(".timeline");
  if (order.refunds.length === 0) {
    const none = document.createElement("li");
    none.className = "empty"; none.textContent = "no refund yet";
    timeline.appendChild(none);
  }
  for (const r of order.refunds) {
    const item = document.createElement("li");
    item.className = "refund-entry";
    item.dataset.refundNo = r.refundNo;
    const number = document.createElement("code");
    number.textContent = r.refundNo;
    const status = document.createElement("span");
    status.className = "status " + r.refundStatus;
    status.textContent = r.refundStatus;
    const when = document.createElement("small");
    when.textContent = ` created ${r.createdAt}` + (r.settledAt ? `, settled ${r.settledAt}` : "") +
      (r.remark ? ` · ${r.remark}` : "");
    item.append(number, " ", status, when);
    timeline.appendChild(item);
  }
  return section;
}

function render(state) {
  $("now").textContent = state.now;
  if (!$("seconds").dataset.touched) $("seconds").value = String(state.settleAfter);
  const main = $("orders");
  main.replaceChildren(...state.orders.map(renderOrder));
  for (const input of document.querySelectorAll("section.order input")) {
    const key = inputKey(input);
    if (key in typed && !input.disabled) input.value = typed[key];
    input.addEventListener("input", () => { typed[key] = input.value; });
  }
}

function inputKey(input) {
  const section = input.closest("section.order");
  const row = input.closest("tr");
  return section.dataset.orderId + "/" + (row ? row.dataset.lineId : "remark");
}

function connect() {
  $("token").textContent = token;
  const feed = new EventSource("/_sandbox/events?token=" + encodeURIComponent(token));
  feed.addEventListener("state", (event) => {
    $("feed").textContent = "live"; $("feed").className = "feed live";
    render(JSON.parse(event.data));
  });
  feed.onerror = () => { $("feed").textContent = "reconnecting"; $("feed").className = "feed lost"; };
}

$("seconds").addEventListener("input", () => { $("seconds").dataset.touched = "1"; });
$("clock").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const data = await call("POST", "/_sandbox/clock/advance?seconds=" + encodeURIComponent($("seconds").value));
    say(`clock advanced to ${data.now}; ${data.settled} refund(s) settled`);
  } catch (error) { say(`advance: ${error.message}`, true); }
});
$("reset").addEventListener("click", async () => {
  if (!confirm("Reset the sandbox? Every refund and clock move is lost, for every merchant: " +
               "the orders go back to the sandbox's data.")) {
    say("reset cancelled: nothing changed");
    return;
  }
  try { await call("POST", "/_sandbox/reset"); say("sandbox reset to its data"); }
  catch (error) { say(`reset: ${error.message}`, true); }
});
connect();
