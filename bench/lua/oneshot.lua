-- One request per payment: every connection POSTs the same payment body again and again.
-- Arguments (after `--`): path, Authorization header, Content-Type, body, a plain substring that a
-- successful payment's body contains, and stop_after (responses per thread, 0 = run for -d).
-- Counters: payments (2xx with the success marker), non_2xx, unexpected (2xx without it), responses.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

counter_names = { "payments", "non_2xx", "unexpected", "responses" }

function init(args)
  wrk.method = "POST"
  wrk.path = args[1]
  wrk.headers["Authorization"] = args[2]
  wrk.headers["Content-Type"] = args[3]
  wrk.body = args[4]
  success = args[5]
  stop_after = tonumber(args[6]) or 0
  payments, non_2xx, unexpected, responses, stopped = 0, 0, 0, 0, false
end

function response(status, headers, body)
  if not is_2xx(status) then
    non_2xx = non_2xx + 1
  elseif body and string.find(body, success, 1, true) then
    payments = payments + 1
  else
    unexpected = unexpected + 1
  end
  count_and_maybe_stop()
end
