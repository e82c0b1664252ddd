-- wrk script: POST /v1/decisions/commission for the spinning company (its
-- commission plugin loops until its deadline), as fast as answers come.
local key = os.getenv("PACTUM_FLOOD_KEY")
local body = [[{"event_time":1795651200,"input":{"event":"Won",
  "deal":{"id":"d-1","first_year_acv":{"amount":10000,"currency":"USD"},
          "services":{"amount":0,"currency":"USD"},"source":"PartnerSourced","closed_at":1795651200},
  "partner":{"id":"p-1","name":"Initech","kind":"Referral","tier":"Silver",
             "territories":[],"certifications":[],"active":true},
  "prior_lines":[],"quarter_to_date":{"amount":0,"currency":"USD"}}}]]

request = function()
  return wrk.format("POST", "/v1/decisions/commission",
    { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
