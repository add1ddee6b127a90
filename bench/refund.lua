-- One real, successful Refund Order per request: one piece of the bench order's line.
-- The body is bench/orders.py's REFUND_BODY, which bench.run.wrk hands over in the
-- environment (the order is defined once, there).
-- (wrk counts non-2xx answers itself and prints "Non-2xx or 3xx responses".)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer demo-token"
wrk.body = os.getenv("BENCH_REFUND_BODY")
  or error("BENCH_REFUND_BODY is not set: run wrk through bench.run.wrk")
