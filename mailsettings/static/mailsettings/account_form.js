// The new-account form, enhanced: leaving the address field fills in the provider's settings (the same API the
// "Detect settings" button's page uses): the local answer at once, then, when it was only a guess, the network's
// answer (the domain's own settings, DNS, a test of the usual servers) replaces it if it is better. The SMTP login
// shows only when it differs, and the duplicate warning follows "Save sent mail on the server". Every text comes
// from the server, translated there.
(function () {
  "use strict";
  var form = document.getElementById("account-form");
  if (!form) { return; }
  var field = function (name) { return form.elements.namedItem(name); };
  var notes = document.getElementById("detect-notes");
  var warning = document.getElementById("duplicate-warning");
  var providerSavesSent = warning && !warning.hidden;
  var lastAddress = "";

  function say(text, items, isError) {
    notes.textContent = "";
    var box = document.createElement("div");
    box.className = isError ? "form-errors" : "notice";
    var p = document.createElement("p");
    p.textContent = text;
    box.appendChild(p);
    if (items && items.length) {
      var list = document.createElement("ul");
      list.className = "notes";
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = item;
        list.appendChild(li);
      });
      box.appendChild(list);
    }
    notes.appendChild(box);
  }

  function fill(name, value) {
    var input = field(name);
    if (!input) { return; }
    // Never overwrite what the person typed, nor the field they are in (an answer landing while they type would
    // mix its value with their keystrokes); a value we filled in before may be replaced.
    if (input === document.activeElement) { return; }
    if (input.value === "" || input.dataset.detected === "true") {
      input.value = String(value);
      input.dataset.detected = "true";
    }
  }

  function updateWarning() {
    if (!warning) { return; }
    warning.hidden = !(providerSavesSent && field("save_sent_on_server").checked);
  }

  function updateSmtpLogin() {
    var login = document.getElementById("smtp-login");
    if (login) { login.hidden = field("smtp_same_credentials").checked; }
  }

  // "Sign in with ..." first, when the address's provider signs in with OAuth2 (the detection answer says so).
  function updateSignIn(offer) {
    var box = document.getElementById("oauth-signin");
    if (!box) { return; }
    var button = document.getElementById("oauth-signin-button");
    var note = document.getElementById("oauth-signin-note");
    box.hidden = !offer;
    if (!offer) { return; }
    button.value = offer.provider;
    button.textContent = offer.label;
    note.textContent = offer.passwords_allowed ? box.dataset.textPasswords : box.dataset.textNoPasswords;
  }

  function ask(address, mode) {
    var url = form.dataset.detectUrl + "?address=" + encodeURIComponent(address) +
      "&protocol=" + encodeURIComponent(field("protocol").value) + "&mode=" + mode;
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); });
  }

  function apply(body) {
    fill("protocol", body.incoming.protocol);
    fill("incoming_host", body.incoming.host);
    fill("incoming_port", body.incoming.port);
    fill("incoming_security", body.incoming.security);
    fill("smtp_host", body.outgoing.host);
    fill("smtp_port", body.outgoing.port);
    fill("smtp_security", body.outgoing.security);
    // A login that is not the address itself (IIJ's "name.domain"); the address is the default otherwise.
    var username = field("incoming_username");
    if (body.incoming.username && body.incoming.username.indexOf("@") < 0) {
      fill("incoming_username", body.incoming.username);
    } else if (username.dataset.detected === "true") {
      username.value = "";
    }
    updateSignIn(body.oauth);
    providerSavesSent = body.notes.some(function (note) { return note.code === "saves_sent_mail"; });
    updateWarning();
  }

  function messages(body) {
    var items = body.notes.map(function (note) { return note.message; });
    if (body.verified) { items.unshift(form.dataset.textVerified); }
    return items;
  }

  function failed(result) {
    var error = result[1] && result[1].error ? result[1].error : {};
    var fields = error.fields || {};
    say((fields.address && fields.address[0]) || error.message || form.dataset.textFailed, [], true);
    lastAddress = "";
  }

  var asking = 0;  // answers to an older address are dropped

  function detect() {
    var address = field("address").value.trim();
    if (!address || address.indexOf("@") < 1 || address === lastAddress) { return; }
    lastAddress = address;
    var turn = ++asking;
    say(form.dataset.textDetecting, []);
    ask(address, "local").then(function (local) {
      if (turn !== asking) { return; }
      if (!local[0]) { failed(local); return; }
      apply(local[1]);
      if (local[1].complete) { say(form.dataset.textDetected, messages(local[1])); return; }
      say(form.dataset.textLookingFurther, messages(local[1]));
      return ask(address, "full").then(function (full) {
        if (turn !== asking) { return; }
        if (!full[0]) { say(form.dataset.textDetected, messages(local[1])); return; }
        var better = full[1].source !== local[1].source;
        if (better) { apply(full[1]); }
        say(better ? form.dataset.textUpgraded : form.dataset.textDetected, messages(full[1]));
      });
    }).catch(function () { if (turn === asking) { lastAddress = ""; say(form.dataset.textFailed, [], true); } });
  }

  field("address").addEventListener("change", detect);
  field("address").addEventListener("blur", detect);
  field("save_sent_on_server").addEventListener("change", updateWarning);
  field("smtp_same_credentials").addEventListener("change", updateSmtpLogin);
  // A select the person changed by hand is theirs: detection no longer switches it.
  ["incoming_host", "incoming_port", "incoming_security", "incoming_username", "smtp_host", "smtp_port",
    "smtp_security"]
    .forEach(function (name) {
      field(name).addEventListener("input", function () { field(name).dataset.detected = "false"; });
    });
  // The selects hold defaults, not a choice of the person's, until they change one.
  ["protocol", "incoming_security", "smtp_security"].forEach(function (name) {
    field(name).dataset.detected = "true";
    field(name).addEventListener("change", function () { field(name).dataset.detected = "false"; });
  });
  // IMAP and POP3 use other servers and ports: a new protocol asks for the address's settings again.
  field("protocol").addEventListener("change", function () { lastAddress = ""; detect(); });
  updateSmtpLogin();
  updateWarning();
})();
