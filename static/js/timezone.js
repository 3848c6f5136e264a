// Shows times in the visitor's own time zone: if the page was not asked for a zone yet,
// pick the browser's and reload. Without JavaScript the clinic's zone is shown and can be changed.
(function () {
  var form = document.querySelector(".tz-form");
  if (!form || new URLSearchParams(window.location.search).has("tz")) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var select = form.querySelector("select[name=tz]");
  if (!zone || !select || select.value === zone) return;
  if (!Array.prototype.some.call(select.options, function (o) { return o.value === zone; })) {
    select.add(new Option(zone, zone));
  }
  select.value = zone;
  form.submit();
})();
