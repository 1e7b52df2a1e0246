const axios = require('axios');

axios({
  url: 'http://127.0.0.1:__PORT__/power-dialer/campaigns/campaign-rows',
  method: 'POST',
  headers: {
    'Content-Type': 'application/json',
    'x-project-id': '__PROJECT_ID__',
    'Auth-key': '__AUTH_KEY__'
  },
  data: {
    campaignId: __CAMPAIGN_ID__,
    fio: "Іван Петренко",
    phone_number: "380930000000"
  }
})
.then(response => {
  console.log(response.data);
})
.catch(error => {
  console.error(error.response?.data || error.message);
});
