-- wrk script: rotate through the requests listed in $BENCH_REQUESTS (one "path<TAB>accept"
-- per line); with BENCH_NONCE=1 the token NONCEXYZ in a path becomes a number unique to
-- this run ($BENCH_RUN) and request, so that no cache can answer a repeated query (without
-- the run's token, the counter restarting at 1 made a second run repeat the first's); done() prints one JSON line with the numbers.
local requests = {}
local counter = 0
local nonce = os.getenv("BENCH_NONCE") == "1"
local run = os.getenv("BENCH_RUN") or ""
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

function init(args)
   for line in io.lines(os.getenv("BENCH_REQUESTS")) do
      local path, accept = line:match("^([^\t]*)\t?(.*)$")
      if path and path ~= "" then
         requests[#requests + 1] = {path = path, accept = accept}
      end
   end
end

function request()
   counter = counter + 1
   local r = requests[(counter - 1) % #requests + 1]
   local path = r.path
   if nonce then
      path = path:gsub("NONCEXYZ", run .. "r" .. tostring(tid) .. "n" .. tostring(counter))
   end
   local headers = {}
   if r.accept ~= "" then headers["Accept"] = r.accept end
   return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '\nBENCH {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, ' ..
      '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
      summary.requests, summary.duration, summary.bytes, e.status,
      e.connect + e.read + e.write, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.mean))
end
