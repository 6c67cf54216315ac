// The workspace's only script of its own: the moment slider, the "published before" switch,
// and live updates of a page that shows "now". Every page works without it.
(function () {
  "use strict";

  function urlWith(name, value) {
    var url = new URL(window.location.href);
    ["known_at", "published_before", "at", "axis"].forEach(function (n) {
      url.searchParams.delete(n);
    });
    if (value) url.searchParams.set(name, value);
    return url.pathname + url.search;
  }

  function axisName() {
    var axis = document.getElementById("moment-axis");
    return axis && axis.checked ? "published_before" : "known_at";
  }

  // The slider steps through the exact moments the record changed (to the microsecond, so that
  // the change made at that moment is included); letting go shows the page as of then.
  document.addEventListener("input", function (event) {
    var slider = event.target;
    if (slider.id !== "moment-slider") return;
    var moment = slider.dataset.moments.split(" ")[slider.valueAsNumber];
    document.getElementById("moment-slider-value").textContent = moment;
    document.getElementById("moment-at").value = moment.slice(0, 19);
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "moment-slider") {
      var moment = target.dataset.moments.split(" ")[target.valueAsNumber];
      window.location.assign(urlWith(axisName(), moment));
    } else if (target.id === "moment-axis" && target.form) {
      target.form.requestSubmit();
    }
  });

  function here() {
    return window.location.pathname + window.location.search;
  }

  // Requests for the live panel (a filter, a live refresh) are numbered; an answer older than
  // one already shown would bring back what the page left, and is dropped. (The panel's
  // container stays: each answer replaces what is inside it.)
  // A live refresh reads the address the last filter asked for, which becomes the page's
  // address only once its answer is shown.
  var issued = 0;
  var shown = 0;
  var refreshing = false;
  var latest = null;
  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    if (!detail.target || detail.target.id !== "live") return;
    issued += 1;
    detail.headers["X-Panel-Request"] = String(issued);
    if (!refreshing && detail.verb === "get" && detail.formData) {
      var query = new URLSearchParams(detail.formData).toString();
      latest = detail.path + (query ? "?" + query : "");
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var headers = event.detail.requestConfig && event.detail.requestConfig.headers;
    var number = headers ? Number(headers["X-Panel-Request"] || 0) : 0;
    if (!number) return;
    if (number < shown) {
      event.detail.shouldSwap = false;
    } else {
      shown = number;
    }
  });

  // Live: a page showing "now" re-reads its live panel when the stream says something changed.
  function follow() {
    var panel = document.getElementById("live");
    if (!panel || !panel.hasAttribute("data-live") || !window.EventSource || !window.htmx) return;
    var incident = panel.getAttribute("data-live");
    var stream = new EventSource("/v1/stream");
    var timer = null;
    function refresh(event) {
      var data = {};
      try { data = JSON.parse(event.data || "{}"); } catch (e) { /* not an event of ours */ }
      if (incident && data.incident_id && data.incident_id !== incident) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        refreshing = true;
        var request = window.htmx.ajax("GET", latest || here(), {
          target: "#live", select: "#live-panel", swap: "innerHTML"
        });
        refreshing = false;
        request.then(function () {
          var status = document.getElementById("live-status");
          if (status) status.textContent = "Updated at " + new Date().toISOString().slice(11, 19) + " UTC.";
        });
      }, 200);
    }
    // What changed between the page's rendering and the stream's start (or while it was
    // reconnecting) is not in the stream: read the panel once whenever it (re)opens.
    stream.addEventListener("open", refresh);
    ["statement.recorded", "statement.withdrawn", "claim.status_changed",
     "claim.verdict_changed", "incident.opened"].forEach(function (type) {
      stream.addEventListener(type, refresh);
    });
    window.addEventListener("pagehide", function () { stream.close(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", follow);
  } else {
    follow();
  }
})();
