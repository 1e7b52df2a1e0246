-- wrk script for benchmarks/bench_endpoint.py: every request posts a distinct phone number.
--
--   wrk -s benchmarks/rows.lua -H 'x-project-id: 1' -H 'Auth-key: ...' URL -- CAMPAIGN_ID
--
-- Each wrk thread runs its own Lua state, so setup() (run in the main state, once per thread)
-- hands each thread an id; thread t numbers its requests 380 + (930000000 + t * 10^7 + k):
-- valid Ukrainian mobile numbers (operator codes 93..99), distinct across threads for up to
-- 7 threads and 10^7 requests a thread. The Content-Type, x-project-id and Auth-key headers
-- come from wrk's -H flags (wrk.format adds wrk.headers to every request).
--
-- With a second argument "idempotency" (bench_endpoint.py --idempotency) every request also
-- carries its own Idempotency-Key (campaign, thread and request number: never repeated).

local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  campaign = tonumber(args[1]) or 1
  base = 930000000 + tid * 10000000
  counter = 0
  prefix = '{"campaignId": ' .. campaign .. ', "fio": "Test", "phone_number": "380'
  keyed = args[2] == "idempotency"
  if keyed then
    headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
  end
end

function request()
  local n = base + counter
  counter = counter + 1
  if keyed then
    headers["Idempotency-Key"] = "bench-" .. campaign .. "-" .. n
    return wrk.format("POST", nil, headers, prefix .. n .. '"}')
  end
  return wrk.format("POST", nil, nil, prefix .. n .. '"}')
end
