// The registration form's "already registered?" check: as the partner
// types the account's domain, ask /registrations/check and show its
// answer under the field. Progressive: without it the form works the same.
(function () {
  "use strict";
  var input = document.getElementById("account_domain");
  var out = document.getElementById("domain-check");
  if (!input || !out || !window.fetch) { return; }
  var timer = null;
  var asked = "";
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var domain = input.value.trim();
      if (domain === asked) { return; }
      asked = domain;
      if (domain.indexOf(".") < 1 || domain.length > 253) { out.textContent = ""; return; }
      fetch("/registrations/check?domain=" + encodeURIComponent(domain), { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) { if (asked === domain) { out.innerHTML = html; } })
        .catch(function () { out.textContent = ""; });
    }, 350);
  });
})();
