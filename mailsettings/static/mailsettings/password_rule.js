// The password rule in the browser: a stored password goes only to the server it was entered for, so a change
// of where it is sent (server, port, security, protocol, username, same credentials) needs it again. Each
// password box says which fields decide where it goes (data attributes set by the server, which also enforces
// the rule without JavaScript): once one of them differs from the page's value, the box is marked required
// (the person's own account) or a sentence says the stored password will be removed (someone else's).
function passwordRule() {
  "use strict";
  var boxes = document.querySelectorAll("input[data-password-rule]");
  if (!boxes.length) { return; }
  var form = boxes[0].form;
  var field = function (name) { return form.elements.namedItem(name); };

  function changed(name) {
    var input = field(name);
    if (!input) { return false; }
    if (input.type === "checkbox") { return input.checked !== input.defaultChecked; }
    if (input.tagName === "SELECT") {
      return Array.prototype.some.call(input.options, function (option) {
        return option.selected !== option.defaultSelected;
      });
    }
    return input.value.trim() !== input.defaultValue.trim();
  }

  function sameCredentials() {
    var input = field("smtp_same_credentials");
    return !input || input.checked;
  }

  function needed(box) {
    var incoming = box.dataset.incomingBinding.split(" ");
    var outgoing = box.dataset.outgoingBinding.split(" ");
    var same = sameCredentials();
    var outgoingMoved = outgoing.some(changed) ||
      (same ? changed("incoming_username") : changed("smtp_username"));
    if (box.dataset.passwordRule === "incoming_password") {
      return incoming.some(changed) || (same && outgoingMoved);
    }
    return !same && outgoingMoved;
  }

  function noteFor(box) {
    var id = box.id + "-rule-note";
    var note = document.getElementById(id);
    if (!note) {
      note = document.createElement("p");
      note.id = id;
      note.className = "password-rule-note";
      note.setAttribute("aria-live", "polite");
      note.hidden = true;
      box.insertAdjacentElement("afterend", note);
      var described = (box.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      box.setAttribute("aria-describedby", described.concat([id]).join(" "));
    }
    return note;
  }

  function update() {
    Array.prototype.forEach.call(boxes, function (box) {
      var need = needed(box) && box.value === "";
      var note = noteFor(box);
      if (box.dataset.ruleMode === "require") {
        box.required = needed(box);
        box.setAttribute("aria-required", needed(box) ? "true" : "false");
      }
      note.textContent = need ? box.dataset.ruleNote : "";
      note.hidden = !need;
    });
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}
// The Django admin loads form media in the head, before the form exists.
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", passwordRule);
} else {
  passwordRule();
}
