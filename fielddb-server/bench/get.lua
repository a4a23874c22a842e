-- GET a random key out of 100,000 (all present after the PUT preload).
request = function()
  return wrk.format("GET", "/v1/records/k" .. math.random(0, 99999))
end
