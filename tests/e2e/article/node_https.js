const https = require('http');

const data = JSON.stringify({
  campaignId: __CAMPAIGN_ID__,
  fio: "Іван Петренко",
  phone_number: "380930000000"
});

const config = {
  host: '127.0.0.1',
  port: __PORT__,
  path: '/power-dialer/campaigns/campaign-rows',
  method: 'POST',
  headers: {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(data),
    'x-project-id': '__PROJECT_ID__',
    'Auth-key': '__AUTH_KEY__'
  }
};

const callback = (response) => {
  let result = Buffer.alloc(0);
  response.on('data', chunk => {
    result = Buffer.concat([result, chunk]);
  });
  response.on('end', () => {
    console.log(result.toString());
  });
};

const request = https.request(config, callback);
request.write(data);
request.end();
