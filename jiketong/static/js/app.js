// Behaviours the templates ask for with data attributes, so no page needs an inline script or handler and the
// Content-Security-Policy can forbid them (docs/security.md):
//   <select data-autosubmit>                 submits its form on change (the language switch)
//   <form data-confirm="…">                  asks before submitting
//   <button data-print>                      prints the page
//   <button data-remove-after-request>       removes itself once its HTMX request is done (the "查看" of a number)
//   <a data-follows-query href="…?…">          takes the page's query string when an HTMX filter pushes a new URL
//                                             (an export button outside the redrawn table exports what is shown)
//   <form data-refilter hx-trigger="refilter">  a change of its own selects, dates or checkboxes refilters the list
//                                             (the search box triggers on input; htmx filters need eval, so not those)
(function () {
  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-autosubmit]");
    if (field && field.form) field.form.submit();
    var form = event.target.closest("form[data-refilter]");
    if (form && event.target.matches("select, input[type=date], input[type=checkbox]") && window.htmx) {
      window.htmx.trigger(form, "refilter");
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
  document.addEventListener("htmx:pushedIntoHistory", function () {
    document.querySelectorAll("a[data-follows-query]").forEach(function (link) {
      var url = new URL(link.href, window.location.href);
      url.search = window.location.search;
      link.href = url.toString();
    });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (element && element.hasAttribute && element.hasAttribute("data-remove-after-request")) element.remove();
  });
})();
