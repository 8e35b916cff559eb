-- Token then payment: each thread keeps a queue of token ids parsed from token responses;
-- request() pays with a queued token when there is one, else asks for a new token.
-- Arguments (after `--`):
--   1 token path        2 token Authorization     3 token body
--   4 payment path      5 payment Authorization   6 payment body, where TOKEN_ID stands for the token
--   7 Content-Type      8 Lua pattern capturing the id in a token response
--   9 plain substring marking a payment response  10 plain substring of a successful payment
--  11 stop_after: responses per thread before it stops (0: run for -d)
-- Counters: payments, tokens, payment_failures (payment responses that are non-2xx or lack the
-- success marker), non_2xx (all requests), unparsed (2xx bodies that are neither), responses.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

counter_names = { "payments", "tokens", "payment_failures", "non_2xx", "unparsed", "responses" }

local queue, head, tail = {}, 1, 0
local token_request, payment_path, payment_headers, payment_body

function init(args)
  local content_type = args[7]
  token_request = wrk.format("POST", args[1], { ["Authorization"] = args[2], ["Content-Type"] = content_type },
    args[3])
  payment_path = args[4]
  payment_headers = { ["Authorization"] = args[5], ["Content-Type"] = content_type }
  payment_body = args[6]
  token_pattern, payment_marker, success = args[8], args[9], args[10]
  stop_after = tonumber(args[11]) or 0
  payments, tokens, payment_failures, non_2xx, unparsed, responses, stopped = 0, 0, 0, 0, 0, 0, false
end

function request()
  if head <= tail then
    local token = queue[head]
    queue[head] = nil
    head = head + 1
    return wrk.format("POST", payment_path, payment_headers, (payment_body:gsub("TOKEN_ID", token)))
  end
  return token_request
end

function response(status, headers, body)
  body = body or ""
  if not is_2xx(status) then
    non_2xx = non_2xx + 1
  end
  local token = is_2xx(status) and body:match(token_pattern)
  if token then
    tokens = tokens + 1
    tail = tail + 1
    queue[tail] = token
  elseif string.find(body, payment_marker, 1, true) then
    if is_2xx(status) and string.find(body, success, 1, true) then
      payments = payments + 1
    else
      payment_failures = payment_failures + 1
    end
  elseif is_2xx(status) then
    unparsed = unparsed + 1
  end
  count_and_maybe_stop()
end
