// The console's one script, optional: a long action (an upload that
// compiles, a backtest, a payout run) says it is working while the
// server does it, and is not sent twice. Pages work the same without it.
document.addEventListener('submit', function (event) {
  var form = event.target;
  if (!form.classList || !form.classList.contains('long')) return;
  if (form.dataset.sent === '1') { event.preventDefault(); return; }
  form.dataset.sent = '1';
  var working = form.querySelector('.working');
  if (working) working.hidden = false;
  var buttons = form.querySelectorAll('button');
  for (var i = 0; i < buttons.length; i++) buttons[i].setAttribute('aria-disabled', 'true');
});
