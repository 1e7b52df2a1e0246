// The one thing the bundle exports: window.JsSIP (the operator screen and softphone.js use it).
// JsSIP logs through `debug`; it stays silent unless localStorage.debug = "JsSIP:*".
window.JsSIP = require("jssip");
