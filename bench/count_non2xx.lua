-- wrk script for bench/run.py and bench/tokens.py: counts every response whose status is not
-- 2xx (wrk's own "Non-2xx or 3xx responses" lets redirects pass) and prints machine-readable totals.
--
-- Optional, from the environment:
--   BENCH_BODY       POST this body as application/x-www-form-urlencoded (default: GET, no body)
--   BENCH_EXPECT     a Lua pattern that every 2xx body must contain; the others count as bad_body
--   BENCH_AUTH_FILE  a file of Authorization header values, one a line; request k carries line
--                    k mod n (round robin over the file; each wrk thread starts at its own place)
--   BENCH_BODY_FILE  a file of form bodies, one a line, POSTed in turn (single-use credentials:
--                    authorization codes, refresh tokens); with BENCH_BODY_OFFSET the first line
--                    used (a warm-up and the measured run share one file without reusing a line)
local threads = {}
local body = os.getenv("BENCH_BODY") or ""
local expect = os.getenv("BENCH_EXPECT") or ""
local auth_file = os.getenv("BENCH_AUTH_FILE") or ""
local body_file = os.getenv("BENCH_BODY_FILE") or ""
local body_offset = tonumber(os.getenv("BENCH_BODY_OFFSET") or "0")

if body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local prepared, count, next_index = {}, 0, 0

function init(args)
  non2xx = 0
  badbody = 0
  if auth_file ~= "" then
    for line in io.lines(auth_file) do
      if line ~= "" then
        local headers = {}
        for name, value in pairs(wrk.headers) do
          headers[name] = value
        end
        headers["Authorization"] = line
        table.insert(prepared, wrk.format(nil, nil, headers, nil))
      end
    end
    count = #prepared
    next_index = ((thread_index or 0) * 7919) % count
  end
  if body_file ~= "" then
    local headers = {}
    for name, value in pairs(wrk.headers) do
      headers[name] = value
    end
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local line_number = 0
    for line in io.lines(body_file) do
      line_number = line_number + 1
      if line ~= "" and line_number > body_offset then
        table.insert(prepared, wrk.format("POST", nil, headers, line))
      end
    end
    count = #prepared
    next_index = 0
  end
end

if auth_file ~= "" or body_file ~= "" then
  -- Defined only in this mode: a script with request() builds every request in Lua.
  function request()
    next_index = next_index % count + 1
    return prepared[next_index]
  end
end

function response(status, headers, response_body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif expect ~= "" and not string.find(response_body, expect) then
    badbody = badbody + 1
  end
end

function done(summary, latency, requests)
  local bad, wrong = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    wrong = wrong + thread:get("badbody")
  end
  local e = summary.errors
  io.write(string.format("bench: requests=%d duration_us=%d non2xx=%d\n", summary.requests, summary.duration, bad))
  io.write(string.format("bench: p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  io.write(string.format("bench: socket_errors=%d bad_body=%d\n", e.connect + e.read + e.write + e.timeout, wrong))
end
