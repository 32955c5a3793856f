// After a refused submit, move the keyboard focus to the first field with an error (its sentence is tied to it by
// aria-describedby, so a screen reader reads it), else to the form's error summary.
(function () {
  "use strict";
  var invalid = document.querySelector("main [aria-invalid='true']");
  if (invalid) { invalid.focus(); return; }
  var summary = document.querySelector("main .form-errors");
  if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
})();
