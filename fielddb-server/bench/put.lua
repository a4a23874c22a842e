-- PUT a small record at a random key out of 100,000.
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local k = math.random(0, 99999)
  return wrk.format(nil, "/v1/records/k" .. k, nil,
    '{"name":"user ' .. k .. '","age":' .. (k % 90) .. ',"score":' .. (k / 7) .. '}')
end
