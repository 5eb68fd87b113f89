// alertd dashboard: progressive enhancement only; every page works without this file.
// 1. Tell the server the browser's time zone (a cookie), so times are counted in the viewer's zone.
// 2. Poll /live every second; when deliveries, events or channel health change, refresh the page's content.
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  // Zone names are letters, digits and /_+-: safe in a cookie as they are.
  if (!/^[A-Za-z0-9_\/+-]{1,64}$/.test(zone)) { zone = ""; }
  var had = document.cookie.split("; ").some(function (c) { return c === "alertd_tz=" + zone; });
  if (zone && !had) {
    document.cookie = "alertd_tz=" + zone + "; path=/; max-age=31536000; samesite=strict";
    if (!/[?&]tz=/.test(location.search) && document.querySelector("main[data-live=on]")) { location.reload(); return; }
  }
  var main = document.querySelector("main[data-live=on]");
  if (!main || !window.fetch) { return; }
  var rev = null, busy = false, lastRefresh = Date.now();
  function refresh() {
    // Not while the viewer is typing in a form: their input would be lost.
    var active = document.activeElement;
    if (active && main.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) { return Promise.resolve(); }
    return fetch(location.href, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { return; }
      return r.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main");
        if (fresh) {
          var open = Array.prototype.map.call(main.querySelectorAll("details[open]"), function (d) { return d.className; });
          main.innerHTML = fresh.innerHTML;
          open.forEach(function (cls) { var d = main.querySelector("details." + cls); if (d) { d.open = true; } });
          lastRefresh = Date.now();
        }
      });
    });
  }
  function tick() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch("/live", { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (body) {
      if (!body) { return; }
      // Countdowns move with the clock too: refresh at least once a minute.
      if ((rev !== null && body.rev !== rev) || Date.now() - lastRefresh > 60000) {
        rev = body.rev;
        return refresh();
      }
      rev = body.rev;
    }).catch(function () { /* the daemon is restarting: try again next tick */ }).then(function () { busy = false; });
  }
  setInterval(tick, 1000);
  tick();
})();
