// Live reload: the server streams the campaign's version; when it is not
// the one this page shows (a template or campaign.yaml changed), reload.
(function () {
  "use strict";
  var shown = document.documentElement.getAttribute("data-version");
  if (!window.EventSource || !shown) return;
  var events = new EventSource("/events");
  events.addEventListener("open", function () {
    document.documentElement.setAttribute("data-live", "on");
  });
  events.addEventListener("version", function (e) {
    if (e.data !== shown) {
      events.close();
      location.reload();
    }
  });
})();
