// With the login on, a refused Dash request (401: the key was revoked or expired, or the session ended) sends
// the browser to the login page instead of leaving a page that no longer updates.
(function () {
  const fetch0 = window.fetch;
  window.fetch = function (...args) {
    return fetch0.apply(this, args).then(function (resp) {
      if (resp.status === 401 && new URL(resp.url, location.href).pathname.startsWith("/_dash-")) {
        location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
        // the page is leaving: Dash's renderer is not handed the refusal, which it reads twice when it reports it
        // ("body stream already read" in the console, whenever a callback was refused before the navigation)
        return new Promise(function () {});
      }
      return resp;
    });
  };
})();
