-- A full 3-D Secure challenge per chain, as a shopper's browser walks it (5 requests):
--   1 POST the payment (a challenge card, with browser and return_url) -> 202 requires_action, redirect_url
--   2 GET the redirect_url's path                  -> 200, a form posting creq to /sandbox/acs/challenge
--   3 POST that form                               -> 200, the ACS's challenge page (otp field)
--   4 POST the answer (otp, action=submit)         -> 200, a form posting cres to /shopper/3ds/notify
--   5 POST that form                               -> 303 to the return_url with status=completed
-- Every form field is URL-safe (base64url, UUIDs, token_urlsafe), so bodies need no percent-encoding.
--
-- wrk gives a script no way to tell its connections apart: response() only registers the connection for
-- writing, and the event loop may handle other connections' responses before calling request() for it.
-- So the next step of a chain is not kept per connection but queued per thread (like twostep.lua's
-- tokens): each response queues at most one next step, request() sends the oldest queued step if there
-- is one, else starts a new chain. A chain may move between the thread's connections (the steps carry
-- all their state; there are no cookies); none is dropped, and at most one chain per connection is
-- under way. The response's content says which step it answers.
--
-- Arguments (after `--`): 1 payment path  2 Authorization  3 Content-Type  4 payment body
--   5 stop_after: finished chains per thread before it stops (0: run for -d)  6 the one-time password
-- Counters: chains (finished: a 303 to the return_url with status=completed), failures (responses that
-- end a chain otherwise: an unexpected status or page, a 303 without status=completed), steps (responses
-- that lead to a next step), non_2xx (responses with a status outside 200-299 other than the final 303),
-- responses.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

counter_names = { "chains", "failures", "steps", "non_2xx", "responses" }

local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local new_payment, otp
local queue, head, tail = {}, 1, 0

function init(args)
  new_payment = wrk.format("POST", args[1], { ["Authorization"] = args[2], ["Content-Type"] = args[3] }, args[4])
  stop_after = tonumber(args[5]) or 0
  otp = args[6] or "123456"
  chains, failures, steps, non_2xx, responses, stopped = 0, 0, 0, 0, 0, false
end

function request()
  if head <= tail then
    local r = queue[head]
    queue[head] = nil
    head = head + 1
    return r
  end
  return new_payment
end

local function field(html, name)
  return html:match('name="' .. name .. '" value="([^"]*)"')
end

-- The path a page's form posts to (its action, absolute or not).
local function action(html)
  local url = html:match('<form method="post" action="([^"]*)"')
  return url and (url:match("^https?://[^/]+(/.*)$") or url)
end

-- The next step after `status` and `body`, or nil if the chain cannot go on.
local function next_step(status, body)
  if status == 202 then
    local path = body:match('"redirect_url":"https?://[^/"]+(/shopper/payments/[%w_]+/authenticate)"')
    return path and wrk.format("GET", path)
  end
  if status ~= 200 then
    return nil
  end
  local to = action(body)
  local session = field(body, "threeDSSessionData")
  if not to or not session then
    return nil
  end
  local creq, cres = field(body, "creq"), field(body, "cres")
  if creq then
    return wrk.format("POST", to, form, "creq=" .. creq .. "&threeDSSessionData=" .. session)
  elseif cres then
    return wrk.format("POST", to, form, "cres=" .. cres .. "&threeDSSessionData=" .. session)
  elseif body:find('name="otp"', 1, true) then
    local acs_trans_id, form_token = field(body, "acs_trans_id"), field(body, "form_token")
    if not acs_trans_id or not form_token then
      return nil
    end
    return wrk.format("POST", to, form, "acs_trans_id=" .. acs_trans_id .. "&form_token=" .. form_token
      .. "&threeDSSessionData=" .. session .. "&otp=" .. otp .. "&action=submit")
  end
  return nil
end

function response(status, headers, body)
  responses = responses + 1
  if status == 303 then
    local location = headers["location"] or headers["Location"] or ""
    if location:find("status=completed", 1, true) then
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
  local step = next_step(status, body or "")
  if step then
    steps = steps + 1
    tail = tail + 1
    queue[tail] = step
  else
    failures = failures + 1
  end
end
