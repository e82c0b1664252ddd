-- wrk script: POST /v1/registrations, one new account domain per request
-- (5,000 domains, cycling, so duplicate checks find earlier registrations
-- as the run goes on). The key comes from the PACTUM_KEY environment variable.
local counter = 0
local key = os.getenv("PACTUM_KEY")

request = function()
  counter = counter + 1
  local body = string.format(
    '{"partner_id":"load","account_domain":"account-%d.com","account_name":"Account %d",' ..
    '"industry":"software","employees":400,"country":"US",' ..
    '"amount":{"amount":12000000,"currency":"USD"}}',
    counter % 5000, counter % 5000)
  return wrk.format("POST", "/v1/registrations",
    { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
