// Run by peers/test_openapi_generator_typescript.py: openapi-generator's typescript-fetch
// client against a sandbox, compiled with it under tsc --strict and run with node 20.
//
//     node dist/og_flow.js BASE_URL TOKEN
//
// Prints one JSON document: what the flow saw through the generated client, and every
// error code, produced live over raw HTTP (fetch) or written out, parsed through the
// generated ModelError model (openapi-generator renames the spec's `Error`), with `code`
// read as a typed value. Only the generated client and node's global fetch are used.

import {
  Configuration,
  CountryCode,
  ErrorCode,
  ErrorCodeValue,
  ModelError,
  ModelErrorFromJSON,
  OrdersApi,
  RefundsApi,
  ResponseError,
  instanceOfErrorCode,
} from "./client";

// node's own global, declared here so that no @types/node is needed for one array.
declare const process: { argv: string[]; exitCode?: number };

type ErrorName = Exclude<keyof typeof ErrorCode, "SUCCESS">;
// [status, code read from ModelError.code, whether it is ErrorCode[name]]
type Seen = [number, number, boolean];

const API = "/openapi/v2/order/orders";
const SKU = "FSZW08923_R_L_NUB";
const JSON_TYPE = { "Content-Type": "application/json" };

// The type checker holds the generated enum to the spec's numbering.
const notFound: 40401 = ErrorCode.ORDER_NOT_FOUND;

function item(itemId: string, quantity: number) {
  return { itemId, skuCode: SKU, quantity, countryCode: CountryCode.Cn };
}

interface Raw {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}

async function raw(base: string, token: string, path: string, options: Raw = {}) {
  const answer = await fetch(base + path, {
    method: options.method ?? "GET",
    body: options.body,
    headers: { Authorization: `Bearer ${token}`, ...options.headers },
  });
  return { status: answer.status, body: await answer.text() };
}

function typedCode(content: string, name: ErrorName): [number, boolean] {
  const error: ModelError = ModelErrorFromJSON(JSON.parse(content));
  const code: ErrorCodeValue = error.code;
  return [code, instanceOfErrorCode(code) && code === ErrorCode[name]];
}

async function main(base: string, token: string): Promise<Record<string, unknown>> {
  const configuration = new Configuration({ basePath: base, accessToken: token });
  const refunds = new RefundsApi(configuration);
  const orders = new OrdersApi(configuration);
  const seen: Record<string, unknown> = {};

  const created = await refunds.refundOrder({
    id: "10007",
    refundRequest: { remark: "openapi-generator typescript-fetch", orderItems: [item("120071", 1)] },
  });
  const listed = await refunds.queryRefund({ id: "10007" });
  const page = await orders.queryOrders({ ids: "10007" });
  seen.refund = {
    code: created.code,
    number: String(created.data),
    listed: listed.data.list.map((refund) => [refund.refundNo, refund.refundStatus]),
    orderRefundStatus: page.data.list[0]?.refundStatus ?? null,
  };

  const viaTheClient: Record<string, number> = {};
  try {
    await refunds.queryRefund({ id: "99999" });
  } catch (error) {
    if (!(error instanceof ResponseError)) throw error;
    const body: ModelError = ModelErrorFromJSON(await error.response.json());
    viaTheClient[String(error.response.status)] = body.code;
  }
  seen.errorsViaTheClient = viaTheClient;
  seen.notFoundCode = notFound;

  // Every error the operations produce, over raw HTTP, parsed through the generated model.
  const order9 = `${API}/10009/refund`;
  const post = (body: unknown, headers: Record<string, string> = JSON_TYPE): Raw => ({
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers,
  });
  const requests: Record<string, [string, Raw]> = {
    UNAUTHORIZED: [API, { headers: { Authorization: "Bearer not-a-token" } }],
    ORDER_NOT_FOUND: [`${API}/refund/99999`, {}],
    SCHEMA_VIOLATION: [`${API}?pageSize=0`, {}],
    MALFORMED_JSON: [order9, post("{")],
    UNSUPPORTED_CONTENT_TYPE: [order9, post("{}", { "Content-Type": "text/plain" })],
    PAYLOAD_TOO_LARGE: [order9, post({ remark: "x".repeat(600_000) })],
    ORDER_NOT_REFUNDABLE: [`${API}/10003/refund`, post({})],
    ITEM_NOT_IN_ORDER: [order9, post({ orderItems: [item("120099", 1)] })],
    DUPLICATE_ITEM: [order9, post({ orderItems: [item("120091", 1), item("120091", 1)] })],
    QUANTITY_EXCEEDS_REFUNDABLE: [order9, post({ orderItems: [item("120091", 99)] })],
    RATE_LIMITED: [API, { headers: { Prefer: "code=429" } }],
    SERVER_ERROR: [API, { headers: { Prefer: "code=500" } }],
    UPSTREAM_UNAVAILABLE: [API, { headers: { Prefer: "code=502" } }],
    SERVICE_UNAVAILABLE: [API, { headers: { Prefer: "code=503" } }],
    UNSUPPORTED_PREFERENCE: [API, { headers: { Prefer: "code=504" } }],
    UNKNOWN_PATH: ["/openapi/v2/no/such/path", {}],
    METHOD_NOT_ALLOWED: [API, { method: "DELETE" }],
  };
  const live: Record<string, Seen> = {};
  for (const [name, [path, options]] of Object.entries(requests)) {
    const answer = await raw(base, token, path, options);
    live[name] = [answer.status, ...typedCode(answer.body, name as ErrorName)];
  }
  // Whole-order refunds and keys, in order: nothing left, then a key with another body.
  const keyed = { ...JSON_TYPE, "Idempotency-Key": "og-typescript-key" };
  const first = await raw(base, token, `${API}/10008/refund`, post({}, keyed));
  const ordered: Record<string, [string, Raw]> = {
    NOTHING_TO_REFUND: [`${API}/10008/refund`, post({})],
    IDEMPOTENCY_KEY_REUSED: [`${API}/10010/refund`, post({}, keyed)],
  };
  for (const [name, [path, options]] of Object.entries(ordered)) {
    const answer = await raw(base, token, path, options);
    live[name] = [answer.status, ...typedCode(answer.body, name as ErrorName)];
  }
  seen.keyedWholeOrderRefund = first.status;
  seen.live = live;

  // Every other ErrorCode (a key in flight needs two concurrent requests): its body parsed.
  const others: Record<string, boolean> = {};
  for (const name of Object.keys(ErrorCode) as (keyof typeof ErrorCode)[]) {
    if (name === "SUCCESS" || name in live) continue;
    const body = JSON.stringify({ code: ErrorCode[name], message: name, data: null });
    const [code, matches] = typedCode(body, name);
    others[name] = matches && code === ErrorCode[name];
  }
  seen.parsedOthers = others;
  return seen;
}

main(process.argv[2] ?? "", process.argv[3] ?? "").then(
  (seen) => console.log(JSON.stringify(seen, null, 2)),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
