-- Seed 000's orders: like unique.lua (no two requests send the same body, as a reference_id may be used
-- once), with EximPe's three credential headers instead of Authorization.
-- Arguments (after `--`): path, X-Client-ID, X-Client-Secret, X-Merchant-ID, Content-Type, body (holding
-- UNIQUE_ID once), a plain substring that a successful response's body contains, stop_after (responses
-- per thread, 0 = run for -d), and the prefix (random, fresh for every wrk run).
-- Counters: successes (2xx with the success marker), non_2xx, unexpected (2xx without it), responses.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

counter_names = { "successes", "non_2xx", "unexpected", "responses" }

local placeholder = "UNIQUE_ID"
local body_head, body_tail, prefix, sent

function init(args)
  wrk.method = "POST"
  wrk.path = args[1]
  wrk.headers["X-Client-ID"] = args[2]
  wrk.headers["X-Client-Secret"] = args[3]
  wrk.headers["X-Merchant-ID"] = args[4]
  wrk.headers["X-API-Version"] = "1.0.0"
  wrk.headers["Content-Type"] = args[5]
  local at = string.find(args[6], placeholder, 1, true)
  assert(at, "the body holds no " .. placeholder)
  body_head, body_tail = string.sub(args[6], 1, at - 1), string.sub(args[6], at + #placeholder)
  success = args[7]
  stop_after = tonumber(args[8]) or 0
  prefix = args[9] .. "-" .. tostring(thread_id) .. "-"
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
