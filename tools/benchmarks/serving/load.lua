-- wrk script: POST one JSON body per request, cycling through the bodies in BODIES_FILE
-- (one JSON document per line), each connection starting at its own offset; at the end,
-- one JSON line with the figures tools/benchmarks/serving.py reads.
local bodies = {}
local path = os.getenv("BENCH_PATH")
for line in io.lines(os.getenv("BODIES_FILE")) do bodies[#bodies + 1] = line end
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  n = id * 7919
  failed = 0
end

function request()
  n = n + 1
  local body = bodies[(n % #bodies) + 1]
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status ~= 200 then failed = failed + 1 end
end

function done(summary, latency, requests)
  local failed_total = 0
  for _, t in ipairs(threads) do failed_total = failed_total + t:get("failed") end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "non200": %d, "socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, failed_total, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3))
end
