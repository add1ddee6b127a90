-- Query Refund of one order, as the demo merchant.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer demo-token"
