-- Shared by the wrk scripts: collects the threads in setup() and, in done(), prints one line
--   BENCH_JSON {...}
-- with wrk's summary, its latency percentiles (microseconds) and every thread's custom counters.
-- Each script lists the counter names it keeps in the global `counter_names`.

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

local function counters_json()
  local parts = {}
  for _, name in ipairs(counter_names) do
    local values = {}
    for _, thread in ipairs(threads) do
      table.insert(values, string.format("%d", tonumber(thread:get(name)) or 0))
    end
    table.insert(parts, string.format('"%s":[%s]', name, table.concat(values, ",")))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d},"counters":%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    counters_json()))
  io.flush()
end

-- Counts one response towards `responses`, and stops the thread after `stop_after` of them (see maybe_stop).
function count_and_maybe_stop()
  responses = responses + 1
  maybe_stop(responses)
end

-- A thread whose count (responses, or what the script counts instead) has reached `stop_after` (0: never)
-- announces it on stdout, so the harness can end wrk's run, and stops.
function maybe_stop(count)
  if stop_after > 0 and count >= stop_after and not stopped then
    stopped = true
    io.write("BENCH_THREAD_DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end

function is_2xx(status)
  return status >= 200 and status < 300
end
