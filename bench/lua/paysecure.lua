-- A Paysecure purchase per chain (seed 001's three steps, 3 requests), for a frictionless card:
--   1 POST <base>/purchases/ (a unique merchantRef)      -> 202 {"purchaseId":"<24 hex>",...}
--   2 POST <base>/p/<purchaseId>/?s2s=true (the card)    -> 202 {"status":"pending","callback_url":...}
--   3 GET the callback_url's path (no key: the shopper)  -> 303 to success_redirect?...&status=paid
-- The 303 is not followed: success_redirect is the merchant's site, not this machine.
--
-- As in challenge.lua (see its header for why), the next step of a chain is queued per thread, not kept per
-- connection: each response queues at most one next step, request() sends the oldest queued step if there
-- is one, else starts a new purchase. A chain may move between the thread's connections (each step
-- carries the purchaseId); none is dropped. The response's status and content say which step it answers.
--
-- Arguments (after `--`): 1 the dialect's base path (/paysecure/api/v1)  2 Authorization  3 the purchase's
--   body (holding UNIQUE_ID once, its merchantRef)  4 the S2S body  5 success_redirect  6 stop_after:
--   finished chains per thread before it stops (0: run for -d)  7 a prefix for merchantRef (random, fresh
--   for every wrk run), to which the thread id and a counter are added.
-- Counters: chains (finished: a 303 to success_redirect with status=paid), failures (responses that end a
-- chain otherwise), steps (responses that lead to a next step), non_2xx (responses with a status outside
-- 200-299 other than the final 303), responses.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

counter_names = { "chains", "failures", "steps", "non_2xx", "responses" }

local placeholder = "UNIQUE_ID"
local base, json_headers, body_head, body_tail, s2s_body, success, prefix, started
local queue, head, tail = {}, 1, 0

function init(args)
  base = args[1]
  json_headers = { ["Authorization"] = args[2], ["Content-Type"] = "application/json" }
  local at = string.find(args[3], placeholder, 1, true)
  assert(at, "the purchase body holds no " .. placeholder)
  body_head, body_tail = string.sub(args[3], 1, at - 1), string.sub(args[3], at + #placeholder)
  s2s_body = args[4]
  success = args[5]
  stop_after = tonumber(args[6]) or 0
  prefix = args[7] .. "-" .. tostring(thread_id) .. "-"
  started = 0
  chains, failures, steps, non_2xx, responses, stopped = 0, 0, 0, 0, 0, false
end

function request()
  if head <= tail then
    local r = queue[head]
    queue[head] = nil
    head = head + 1
    return r
  end
  started = started + 1
  return wrk.format("POST", base .. "/purchases/", json_headers, body_head .. prefix .. started .. body_tail)
end

-- The next step after a 202 `body`, or nil if the chain cannot go on. The purchase object opens with its
-- purchaseId; the S2S answer carries the callback_url (its path is requested: the host is this server's).
local function next_step(body)
  local purchase_id = body:match('^{"purchaseId":"(%x+)"')
  if purchase_id then
    return wrk.format("POST", base .. "/p/" .. purchase_id .. "/?s2s=true", json_headers, s2s_body)
  end
  if body:find('"status":"pending"', 1, true) then
    local path = body:match('"callback_url":"https?://[^/"]+(/[^"]*/payment/%x+/)"')
    return path and wrk.format("GET", path)
  end
  return nil
end

function response(status, headers, body)
  responses = responses + 1
  if status == 303 then
    local location = headers["location"] or headers["Location"] or ""
    if string.sub(location, 1, #success) == success and location:find("status=paid", 1, true) then
      chains = chains + 1
      maybe_stop(chains)
    else
      failures = failures + 1
    end
    return
  end
  if not is_2xx(status) then
    non_2xx = non_2xx + 1
  end
  local step = status == 202 and next_step(body or "")
  if step then
    steps = steps + 1
    tail = tail + 1
    queue[tail] = step
  else
    failures = failures + 1
  end
end
