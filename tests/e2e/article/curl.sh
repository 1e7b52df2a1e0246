curl -X POST "http://127.0.0.1:__PORT__/power-dialer/campaigns/campaign-rows" \
-H "Content-Type: application/json" \
-H "x-project-id: __PROJECT_ID__" \
-H "Auth-key: __AUTH_KEY__" \
-d '{
"campaignId": __CAMPAIGN_ID__,
"fio": "Іван Петренко",
"phone_number": "380930000000"
}'
