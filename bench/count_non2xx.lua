-- wrk script for bench/run.py: counts every response whose status is not 2xx (wrk's own
-- "Non-2xx or 3xx responses" lets redirects pass) and prints machine-readable totals.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format("bench: requests=%d duration_us=%d non2xx=%d\n", summary.requests, summary.duration, bad))
  io.write(string.format("bench: p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  io.write(string.format("bench: socket_errors=%d\n", e.connect + e.read + e.write + e.timeout))
end
