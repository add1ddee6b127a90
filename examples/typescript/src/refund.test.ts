// One refund flow through openapi-fetch, typed by openapi-typescript from ../../openapi.yaml.
// Run against a sandbox (kakaclo-sandbox --db :memory:) or another server of the API:
//   KAKACLO_BASE_URL=http://127.0.0.1:8080/openapi KAKACLO_TOKEN=demo-token npm test
// It refunds one piece of demo order 10001, so point it at a sandbox, never a real account.

import assert from "node:assert/strict";
import { test } from "node:test";

import createClient from "openapi-fetch";

import type { components, paths } from "./schema.js";

type ApiError = components["schemas"]["Error"];

const baseUrl = process.env.KAKACLO_BASE_URL;
const token = process.env.KAKACLO_TOKEN ?? "demo-token";
if (!baseUrl) throw new Error("set KAKACLO_BASE_URL, e.g. http://127.0.0.1:8080/openapi");

const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

test("refund one piece of an order, then read the refund back", async () => {
  const created = await client.POST("/openapi/v2/order/orders/{id}/refund", {
    params: { path: { id: "10001" } },
    body: {
      remark: "openapi-fetch example",
      refundReason: "Out Of Stock",
      orderItems: [{ itemId: "120001", skuCode: "FSZW08923_R_L_NUB", quantity: 1, countryCode: "CN" }],
    },
  });
  assert.equal(created.response.status, 200, JSON.stringify(created.error));
  assert.ok(created.data);
  assert.equal(created.data.code, 10000);
  const refundNo = String(created.data.data); // a digit string (or, from the vendor, an integer)
  assert.match(refundNo, /^[0-9]+$/);

  const listed = await client.GET("/openapi/v2/order/orders/refund/{id}", {
    params: { path: { id: "10001" } },
  });
  assert.ok(listed.data, JSON.stringify(listed.error));
  const refund = listed.data.data.list.find((each) => each.refundNo === refundNo);
  assert.ok(refund, `refund ${refundNo} is listed`);
  assert.equal(refund.refundStatus, "pending_review");
});

test("an unknown order is a typed 404 error with code 40401", async () => {
  const answer = await client.GET("/openapi/v2/order/orders/refund/{id}", {
    params: { path: { id: "99999" } },
  });
  assert.equal(answer.response.status, 404);
  assert.equal(answer.data, undefined);
  const error: ApiError | undefined = answer.error;
  assert.ok(error);
  assert.equal(error.code, 40401);
  assert.equal(typeof error.message, "string");
});
