-- wrk script for benchmarks/load.py: counts non-2xx responses and prints one machine-readable
-- line at the end, so Python never has to scrape wrk's human summary.
--
-- wrk's own summary.errors.status only counts statuses >= 400: a 302 to the login page would
-- pass for a success there. Each thread therefore counts the responses outside 200-299 itself,
-- and done() (which runs in the main Lua state, not in the threads) reads those counters
-- through the thread objects kept by setup().
--
-- Output: one line "WRK_REPORT_JSON {...}" on stdout; latencies in microseconds. latency_grid_us
-- holds the latency at every half percentile (0.5 ... 100): load.py merges the grids of two
-- concurrent wrk processes into one combined distribution (percentiles cannot be averaged).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   non2xx = 0
   statuses = {}
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      local key = tostring(status)
      statuses[key] = (statuses[key] or 0) + 1
   end
end

-- Values are written as they are: numbers, or strings that already hold JSON.
local function json_object(tbl)
   local parts = {}
   for key, value in pairs(tbl) do
      table.insert(parts, string.format("%q:%s", tostring(key), tostring(value)))
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local non2xx_total = 0
   local by_status = {}
   for _, thread in ipairs(threads) do
      non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
      for key, value in pairs(thread:get("statuses") or {}) do
         by_status[key] = (by_status[key] or 0) + value
      end
   end
   local grid = {}
   for i = 1, 200 do
      table.insert(grid, tostring(i == 200 and latency.max or latency:percentile(i / 2)))
   end
   local errors = summary.errors
   local report = {
      requests = summary.requests,
      duration_us = summary.duration,
      bytes = summary.bytes,
      latency_mean_us = string.format("%.1f", latency.mean),
      latency_stdev_us = string.format("%.1f", latency.stdev),
      latency_max_us = latency.max,
      latency_p50_us = latency:percentile(50),
      latency_p90_us = latency:percentile(90),
      latency_p95_us = latency:percentile(95),
      latency_p99_us = latency:percentile(99),
      latency_grid_us = "[" .. table.concat(grid, ",") .. "]",
      errors_connect = errors.connect,
      errors_read = errors.read,
      errors_write = errors.write,
      errors_timeout = errors.timeout,
      errors_status = errors.status,
      non2xx = non2xx_total,
      non2xx_by_status = json_object(by_status),
   }
   io.write("WRK_REPORT_JSON ", json_object(report), "\n")
end
