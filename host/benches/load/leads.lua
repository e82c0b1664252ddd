-- wrk script: POST /v1/leads, 7,000 account domains cycling, half in the
-- load partner's territory (emea), half not (apac: direct sales).
local counter = 0
local key = os.getenv("PACTUM_KEY")

request = function()
  counter = counter + 1
  local region = (counter % 2 == 0) and "emea" or "apac"
  local body = string.format(
    '{"account_domain":"lead-%d.com","country":"DE","region":"%s","source":"webinar"}',
    counter % 7000, region)
  return wrk.format("POST", "/v1/leads",
    { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
