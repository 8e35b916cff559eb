-- Like oneshot.lua, but no two requests send the same body: request() replaces UNIQUE_ID in the body
-- with <prefix>-<thread id>-<n>, n counting this thread's requests (for calls that refuse a repeat,
-- such as saving the same card for the same owner twice).
-- Arguments (after `--`): path, Authorization header (empty for none), Content-Type, body (holding
-- UNIQUE_ID once), a plain substring that a successful response's body contains, stop_after (responses
-- per thread, 0 = run for -d), the prefix (random, fresh for every wrk run), then any further headers as
-- "Name: value" (EximPe's three credential headers, for seed 000's orders).
-- Counters: successes (2xx with the success marker), non_2xx, unexpected (2xx without it), responses.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

counter_names = { "successes", "non_2xx", "unexpected", "responses" }

local placeholder = "UNIQUE_ID"
local body_head, body_tail, prefix, sent

function init(args)
  wrk.method = "POST"
  wrk.path = args[1]
  if args[2] ~= "" then
    wrk.headers["Authorization"] = args[2]
  end
  wrk.headers["Content-Type"] = args[3]
  for i = 8, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    assert(name, "a header argument is not 'Name: value': " .. args[i])
    wrk.headers[name] = value
  end
  local at = string.find(args[4], placeholder, 1, true)
  assert(at, "the body holds no " .. placeholder)
  body_head, body_tail = string.sub(args[4], 1, at - 1), string.sub(args[4], at + #placeholder)
  success = args[5]
  stop_after = tonumber(args[6]) or 0
  prefix = args[7] .. "-" .. tostring(thread_id) .. "-"
  sent = 0
  successes, non_2xx, unexpected, responses, stopped = 0, 0, 0, 0, false
end

function request()
  sent = sent + 1
  return wrk.format(nil, nil, nil, body_head .. prefix .. sent .. body_tail)
end

function response(status, headers, body)
  if not is_2xx(status) then
    non_2xx = non_2xx + 1
  elseif body and string.find(body, success, 1, true) then
    successes = successes + 1
  else
    unexpected = unexpected + 1
  end
  count_and_maybe_stop()
end
