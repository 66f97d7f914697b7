-- wrk script: tokend's token endpoint and the two ways to check a token.
--
--   CLIENT_ID=demo-service CLIENT_SECRET=... SCOPE=read \
--     wrk -t2 -c32 -d10s --latency -s bench/wrk/token.lua http://127.0.0.1:8080/t/demo/oauth2/token
--   MODE=introspect TOKEN=<access token> CLIENT_ID=demo-service CLIENT_SECRET=... \
--     wrk -t2 -c32 -d10s --latency -s bench/wrk/token.lua http://127.0.0.1:8080/t/demo/oauth2/introspect
--   MODE=check TOKEN=<access token> \
--     wrk -t2 -c32 -d10s --latency -s bench/wrk/token.lua http://127.0.0.1:8080/t/demo/check
--
-- MODE issue (the default) sends RFC 6749 client_credentials requests,
-- introspect RFC 7662 introspection requests for TOKEN, both with HTTP
-- Basic client authentication (each part form-urlencoded first, RFC 6749
-- §2.3.1; CLIENT_ID and CLIENT_SECRET required, SCOPE optional for
-- issue); check sends GET with "Authorization: Bearer TOKEN" (the gateway
-- check). At the end it prints one line, "WRK key=value ...", with the
-- totals, the latency percentiles in milliseconds and the count of non-2xx
-- answers (wrk's own report says the same in words; bench/run.sh reads
-- this line).

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = string.byte(s, i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1) ..
      (b and b64chars:sub(c3 + 1, c3 + 1) or "=") .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

local mode = os.getenv("MODE") or "issue"
local token = os.getenv("TOKEN")
if (mode == "introspect" or mode == "check") and (not token or token == "") then
  error("token.lua: MODE=" .. mode .. " needs TOKEN")
end
if mode == "check" then
  wrk.method = "GET"
  wrk.headers["Authorization"] = "Bearer " .. token
else
  local id = os.getenv("CLIENT_ID")
  local secret = os.getenv("CLIENT_SECRET")
  if not id or id == "" or not secret or secret == "" then
    error("token.lua: set CLIENT_ID and CLIENT_SECRET")
  end
  local body
  if mode == "issue" then
    body = "grant_type=client_credentials"
    local scope = os.getenv("SCOPE")
    if scope and scope ~= "" then
      body = body .. "&scope=" .. urlencode(scope)
    end
  elseif mode == "introspect" then
    body = "token=" .. urlencode(token)
  else
    error("token.lua: MODE is issue, introspect or check, not " .. mode)
  end
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = "Basic " .. base64(urlencode(id) .. ":" .. urlencode(secret))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
end
