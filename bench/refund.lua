-- One real, successful Refund Order per request: one piece of the bulk order's line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer demo-token"
wrk.body = '{"remark":"bench","orderItems":[{"itemId":"990001","skuCode":"BENCH_SKU","quantity":1,"countryCode":"CN"}]}'

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  for status, count in pairs(statuses) do
    io.write(string.format("status %d %d\n", status, count))
  end
end
