-- wrk script: simulated USSD callers walking whole bookings, one caller per wrk thread.
--
--   wrk -t32 -c32 -d20s -s bench/ussd_walk.lua URL -- MODE PHONE_BASE CITY_PREFIX
--
-- MODE "walk": each thread (one connection, its own Lua state) is one caller. It posts what
-- Africa's Talking posts (sessionId, serviceCode, phoneNumber, networkCode and the cumulative
-- text joined by "*"), reads every screen, types a valid option (Book, a city starting with
-- CITY_PREFIX, any hospital, department, day and time, Confirm) until "Booked!", then dials
-- again as a new session with a new phone number.
-- MODE "baseline": the same form posted again and again (the bare Flask + Redis floor).
-- done() prints one line "BENCHJSON {...}" with wrk's numbers and the callers' counters.

local threads = {}
local counters = {
  "booked", "ended", "apology", "malformed", "too_long", "unexpected", "stuck", "non200",
  "sessions",
}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local function encode(s)
  return (s:gsub("[^%w%-_%.~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local function new_session()
  seq = seq + 1
  sessions = sessions + 1
  sid = "ATUid_wrk_" .. tag .. "_" .. id .. "_" .. seq
  phone = "+254" .. string.format("%d", phone_base + id * 200000 + seq)
  inputs = {}
end

function init(args)
  mode = args[1] or "walk"
  phone_base = tonumber(args[2] or "780000000")
  city_prefix = args[3] or "Bench"
  tag = args[4] or "w"
  math.randomseed(id * 7919 + phone_base)
  for _, name in ipairs(counters) do _G[name] = 0 end
  seq = 0
  new_session()
end

function request()
  local text = table.concat(inputs, "*")
  if mode == "baseline" then
    text = ({ "", "1", "1*2", "1*2*1" })[(seq % 4) + 1]
    seq = seq + 1
  end
  local body = "sessionId=" .. sid .. "&serviceCode=%2A384%2A123%23&phoneNumber="
    .. encode(phone) .. "&networkCode=63902&text=" .. encode(text)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

local function pick(text, options)
  for _, o in ipairs(options) do
    if o[2] == "Confirm" then return o[1] end
  end
  if text:find("Hospital appointments", 1, true) then
    for _, o in ipairs(options) do
      if o[2] == "Book" then return o[1] end
    end
  end
  local pool = options
  if text:find("Choose city", 1, true) then
    pool = {}
    for _, o in ipairs(options) do
      if o[2]:sub(1, #city_prefix) == city_prefix then table.insert(pool, o) end
    end
  end
  if #pool == 0 then return nil end
  return pool[math.random(#pool)][1]
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    return new_session()
  end
  local kind = body:sub(1, 4)
  if kind ~= "CON " and kind ~= "END " then
    malformed = malformed + 1
    return new_session()
  end
  if mode == "baseline" then return end
  local text = body:sub(5)
  if #text > 160 then too_long = too_long + 1 end
  if kind == "END " then
    if text:find("Booked!", 1, true) then
      booked = booked + 1
    elseif text:find("%(ref %l+%)$") then
      apology = apology + 1
    else
      ended = ended + 1
    end
    return new_session()
  end
  if text:find("Invalid choice", 1, true) then
    unexpected = unexpected + 1
    return new_session()
  end
  local options = {}
  for line in text:gmatch("[^\n]+") do
    local n, label = line:match("^(%d+) (.+)$")
    if n and n ~= "98" and n ~= "0" and n ~= "00" then table.insert(options, { n, label }) end
  end
  local choice = pick(text, options)
  if not choice then
    stuck = stuck + 1
    return new_session()
  end
  table.insert(inputs, choice)
end

function done(summary, latency, requests)
  local totals = {}
  for _, name in ipairs(counters) do totals[name] = 0 end
  for _, thread in ipairs(threads) do
    for _, name in ipairs(counters) do totals[name] = totals[name] + (thread:get(name) or 0) end
  end
  local e = summary.errors
  local parts = {
    string.format('"requests": %d', summary.requests),
    string.format('"seconds": %.3f', summary.duration / 1e6),
    string.format('"p50_ms": %.3f', latency:percentile(50) / 1000),
    string.format('"p90_ms": %.3f', latency:percentile(90) / 1000),
    string.format('"p99_ms": %.3f', latency:percentile(99) / 1000),
    string.format('"max_ms": %.3f', latency.max / 1000),
    string.format('"socket_errors": %d', e.connect + e.read + e.write + e.timeout),
    string.format('"status_errors": %d', e.status),
  }
  for _, name in ipairs(counters) do
    table.insert(parts, string.format('"%s": %d', name, totals[name]))
  end
  io.write("BENCHJSON {" .. table.concat(parts, ", ") .. "}\n")
end
