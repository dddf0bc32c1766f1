// Realtime for the documents pages: listen on the agency's channel and reload the page when a
// document arrives or a status changes, so clerks see new work without pressing F5.
(function () {
  "use strict";
  var holder = document.querySelector("[data-live-channel]");
  if (!holder || !window.WebSocket) return;
  var channel = holder.getAttribute("data-live-channel");
  var watch = holder.getAttribute("data-live-document");
  var banner = document.getElementById("live-banner");
  var proto = location.protocol === "https:" ? "wss:" : "ws:";
  var delay = 1000;
  function connect() {
    var ws = new WebSocket(proto + "//" + location.host + "/api/v1/realtime");
    ws.onopen = function () {
      delay = 1000;
      var channels = {};
      channels[channel] = null;
      ws.send(JSON.stringify({ op: "subscribe", channels: channels }));
    };
    ws.onmessage = function (msg) {
      var event;
      try { event = JSON.parse(msg.data); } catch (e) { return; }
      if (event.op === "subscribed") { window.__ltLive = "subscribed"; return; }
      if (!event.type || event.type.indexOf("document.") !== 0) return;
      if (watch && event.data && event.data.id !== watch) return;
      if (banner) banner.hidden = false;
      setTimeout(function () { location.reload(); }, 300);
    };
    ws.onclose = function () {
      setTimeout(connect, delay + Math.random() * 500);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
