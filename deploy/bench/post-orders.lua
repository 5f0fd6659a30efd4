-- wrk script for deploy/bench/post-orders.sh: every request is one valid POST /orders.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"customerId":"bench-customer","items":[{"sku":"bench-sku","quantity":1,"unitPriceCents":1250}],"currency":"EUR"}'
