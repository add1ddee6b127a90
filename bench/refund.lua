-- One real, successful Refund Order per request: one piece of the bench order's line.
-- (wrk counts non-2xx answers itself and prints "Non-2xx or 3xx responses".)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer demo-token"
wrk.body = '{"remark":"bench","orderItems":[{"itemId":"990001","skuCode":"BENCH_SKU",'
  .. '"quantity":1,"countryCode":"CN"}]}'
