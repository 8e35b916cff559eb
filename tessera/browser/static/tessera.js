/*! tessera.js 1.0.0 | Tessera's browser SDK: card fields, card tokens with a publishable key, 3-D Secure */
// Written for Tessera, served at /js/v1/tessera.js. Plain ES2017, no dependencies, no build step.
// Card data goes to one place only: the POST /v1/tokens request. It is never written to the URL,
// storage, cookies or the console, and the card inputs have no `name`, so no form submits them.
(function (global) {
  "use strict";

  var VERSION = "1.0.0";

  // Brands as the gateway knows them (tessera/core/vault/brands.py): BIN ranges on six digits, the
  // narrowest range winning; the lengths a number may have and its security code's length.
  var RULES = {
    visa: { lengths: [13, 16, 19], cvc: 3, label: "Visa" },
    mastercard: { lengths: [16], cvc: 3, label: "Mastercard" },
    amex: { lengths: [15], cvc: 4, label: "American Express" },
    discover: { lengths: [16, 17, 18, 19], cvc: 3, label: "Discover" },
    jcb: { lengths: [16, 17, 18, 19], cvc: 3, label: "JCB" },
    diners: { lengths: [14, 15, 16, 17, 18, 19], cvc: 3, label: "Diners Club" },
    rupay: { lengths: [16], cvc: 3, label: "RuPay" },
    unionpay: { lengths: [16, 17, 18, 19], cvc: 3, label: "UnionPay" },
    maestro: { lengths: [12, 13, 14, 15, 16, 17, 18, 19], cvc: 3, label: "Maestro" },
  };
  var RANGES = [
    ["4", "4", "visa"], ["51", "55", "mastercard"], ["2221", "2720", "mastercard"], ["34", "34", "amex"],
    ["37", "37", "amex"], ["6011", "6011", "discover"], ["644", "649", "discover"], ["65", "65", "discover"],
    ["3528", "3589", "jcb"], ["300", "305", "diners"], ["3095", "3095", "diners"], ["36", "36", "diners"],
    ["38", "39", "diners"], ["508500", "508999", "rupay"], ["606985", "607984", "rupay"],
    ["608001", "608500", "rupay"], ["6521", "6531", "rupay"], ["817200", "820199", "rupay"],
    ["62", "62", "unionpay"], ["81", "81", "unionpay"], ["5018", "5018", "maestro"], ["5020", "5020", "maestro"],
    ["5038", "5038", "maestro"], ["5893", "5893", "maestro"], ["56", "58", "maestro"], ["6304", "6304", "maestro"],
    ["6759", "6759", "maestro"], ["6761", "6763", "maestro"],
  ].map(function (r) {
    var pad = Math.pow(10, 6 - r[0].length);
    return { low: Number(r[0]) * pad, high: (Number(r[1]) + 1) * pad - 1, brand: r[2] };
  }).sort(function (a, b) { return (a.high - a.low) - (b.high - b.low); });

  function digitsOf(value) {
    return String(value == null ? "" : value).replace(/\D/g, "");
  }

  function luhnValid(number) {
    var digits = digitsOf(number);
    if (digits.length < 12 || digits.length > 19 || digits !== String(number).replace(/[\s-]/g, "")) return false;
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  // The brand of a (possibly partial) number: with six digits, the narrowest range holding the BIN;
  // with fewer, the narrowest range holding every number the prefix could become, or the one brand
  // all ranges it touches belong to; otherwise null (not known yet).
  function detectBrand(number) {
    var digits = digitsOf(number);
    if (!digits) return null;
    var n = Math.min(digits.length, 6);
    var pad = Math.pow(10, 6 - n);
    var low = Number(digits.slice(0, n)) * pad;
    var high = low + pad - 1;
    var touched = {};
    var count = 0;
    for (var i = 0; i < RANGES.length; i++) {
      var r = RANGES[i];
      if (r.low <= low && high <= r.high) return r.brand;
      if (r.low <= high && low <= r.high && !touched[r.brand]) { touched[r.brand] = true; count++; }
    }
    return count === 1 ? Object.keys(touched)[0] : null;
  }

  function gapsFor(brand, length) {
    if (brand === "amex") return [4, 10];
    if (brand === "diners" && length === 14) return [4, 10];
    return [4, 8, 12, 16];
  }

  function maxLength(brand) {
    var rule = RULES[brand];
    return rule ? Math.max.apply(null, rule.lengths) : 19;
  }

  // "4242424242424242" -> "4242 4242 4242 4242"; American Express 4-6-5.
  function formatNumber(value) {
    var brand = detectBrand(value);
    var digits = digitsOf(value).slice(0, maxLength(brand));
    var gaps = gapsFor(brand, digits.length);
    var out = "";
    for (var i = 0; i < digits.length; i++) {
      if (i > 0 && gaps.indexOf(i) !== -1) out += " ";
      out += digits[i];
    }
    return out;
  }

  // What the shopper typed in the expiry field, as "MM / YY": a first digit above 1 is a month.
  function formatExpiry(value) {
    var digits = digitsOf(value).slice(0, 6);
    if (digits.length === 1 && digits > "1") digits = "0" + digits;
    if (digits.length <= 2) return digits;
    return digits.slice(0, 2) + " / " + digits.slice(2);
  }

  function parseExpiry(value) {
    var match = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(String(value == null ? "" : value));
    if (!match) return null;
    var year = Number(match[2]);
    return { exp_month: Number(match[1]), exp_year: year < 100 ? 2000 + year : year };
  }

  // A card is good through the last day of its expiry month (as the gateway checks it).
  function expiryProblem(month, year, now) {
    now = now || new Date();
    month = Number(month);
    year = Number(year);
    if (!Number.isInteger(month) || month < 1 || month > 12) {
      return problem("card.exp_month", "The expiry month must be between 01 and 12.");
    }
    if (!Number.isInteger(year)) return problem("card.exp_year", "The expiry year is not valid.");
    if (year < 100) year += 2000;
    if (year > now.getFullYear() + 30) return problem("card.exp_year", "The expiry year is not valid.");
    if (year * 12 + month < now.getFullYear() * 12 + now.getMonth() + 1) {
      return { code: "EXPIRED_CARD", message: "The card has expired.", param: "card.exp_year" };
    }
    return null;
  }

  function problem(param, message, code) {
    return { code: code || "parameter_invalid", message: message, param: param };
  }

  // The checks made before any request; the first problem found, in the order of the fields, or null.
  function validateCard(card, now) {
    var number = digitsOf(card.number);
    if (!number) return problem("card.number", "Enter the card number.", "parameter_missing");
    var brand = detectBrand(number);
    if (number.length < 12 || number.length > 19) return problem("card.number", "The card number is incomplete.");
    if (!luhnValid(number)) return problem("card.number", "The card number is not valid. Check it for a typo.");
    if (!brand) return problem("card.number", "This card brand is not accepted.");
    if (RULES[brand].lengths.indexOf(number.length) === -1) {
      return problem("card.number", "The card number has the wrong length for a " + RULES[brand].label + " card.");
    }
    if (card.exp_month == null || card.exp_month === "" || card.exp_year == null || card.exp_year === "") {
      return problem("card.exp_month", "Enter the expiry date.", "parameter_missing");
    }
    var expiry = expiryProblem(card.exp_month, card.exp_year, now);
    if (expiry) return expiry;
    // A token is made in the shopper's presence: the gateway requires its security code.
    if (card.cvc == null || card.cvc === "") return problem("card.cvc", "Enter the security code.", "parameter_missing");
    var cvc = String(card.cvc);
    if (!/^\d+$/.test(cvc) || cvc.length !== RULES[brand].cvc) {
      return problem("card.cvc", "The security code must be " + RULES[brand].cvc + " digits for this card.");
    }
    return null;
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    global.crypto.getRandomValues(bytes);
    return "tjs_" + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // ---- mounted card fields ----------------------------------------------------------------------

  var counter = 0;
  var FIELD_PARAMS = { number: ["card.number"], expiry: ["card.exp_month", "card.exp_year"], cvc: ["card.cvc"], name: ["card.name"] };

  function CardFields(container) {
    var doc = container.ownerDocument;
    var id = "tessera-" + (++counter);
    var self = this;
    this._listeners = [];
    this._inputs = {};
    this._errors = {};
    this.brand = null;
    var specs = [
      ["number", "Card number", { autocomplete: "cc-number", inputmode: "numeric", placeholder: "1234 1234 1234 1234" }],
      ["expiry", "Expiry date (MM / YY)", { autocomplete: "cc-exp", inputmode: "numeric", placeholder: "MM / YY" }],
      ["cvc", "Security code (CVC)", { autocomplete: "cc-csc", inputmode: "numeric", placeholder: "123" }],
      ["name", "Name on the card", { autocomplete: "cc-name", placeholder: "" }],
    ];
    var root = doc.createElement("div");
    root.className = "tessera-card";
    specs.forEach(function (spec) {
      var wrap = doc.createElement("div");
      wrap.className = "tessera-field tessera-field-" + spec[0];
      var label = doc.createElement("label");
      var input = doc.createElement("input");
      var error = doc.createElement("div");
      input.id = id + "-" + spec[0];
      label.htmlFor = input.id;
      label.textContent = spec[1];
      input.type = "text";
      input.spellcheck = false;
      input.setAttribute("autocorrect", "off");
      Object.keys(spec[2]).forEach(function (k) { if (spec[2][k]) input.setAttribute(k, spec[2][k]); });
      error.id = input.id + "-error";
      error.className = "tessera-error";
      error.setAttribute("aria-live", "polite");
      input.setAttribute("aria-describedby", error.id);
      wrap.appendChild(label);
      wrap.appendChild(input);
      if (spec[0] === "number") {
        var brand = doc.createElement("span");
        brand.className = "tessera-brand";
        brand.setAttribute("aria-live", "polite");
        wrap.appendChild(brand);
        self._brand = brand;
      }
      wrap.appendChild(error);
      root.appendChild(wrap);
      self._inputs[spec[0]] = input;
      self._errors[spec[0]] = error;
    });
    container.appendChild(root);
    this.element = root;
    var inputs = this._inputs;
    inputs.number.addEventListener("input", function () {
      inputs.number.value = formatNumber(inputs.number.value);
      var brand = detectBrand(inputs.number.value);
      self.brand = brand;
      self._brand.textContent = brand ? RULES[brand].label : "";
      self._brand.setAttribute("data-brand", brand || "");
      inputs.cvc.maxLength = brand ? RULES[brand].cvc : 4;
      self._clear("number");
      self._changed();
    });
    inputs.expiry.addEventListener("input", function () {
      inputs.expiry.value = formatExpiry(inputs.expiry.value);
      self._clear("expiry");
      self._changed();
    });
    inputs.cvc.addEventListener("input", function () {
      inputs.cvc.value = digitsOf(inputs.cvc.value).slice(0, 4);
      self._clear("cvc");
      self._changed();
    });
    inputs.name.addEventListener("input", function () { self._clear("name"); self._changed(); });
    inputs.number.addEventListener("blur", function () { self._checkOne("number"); });
    inputs.expiry.addEventListener("blur", function () { self._checkOne("expiry"); });
  }

  CardFields.prototype.read = function () {
    var expiry = parseExpiry(this._inputs.expiry.value) || { exp_month: null, exp_year: null };
    var name = this._inputs.name.value.trim();
    var card = {
      number: digitsOf(this._inputs.number.value),
      exp_month: expiry.exp_month,
      exp_year: expiry.exp_year,
      cvc: this._inputs.cvc.value,
    };
    if (name) card.name = name;
    return card;
  };

  CardFields.prototype.on = function (event, listener) {
    if (event === "change") this._listeners.push(listener);
    return this;
  };

  CardFields.prototype._changed = function () {
    var state = { brand: this.brand, complete: validateCard(this.read()) === null };
    this._listeners.forEach(function (listener) { listener(state); });
  };

  CardFields.prototype._checkOne = function (field) {
    var found = validateCard(this.read());
    if (found && FIELD_PARAMS[field].indexOf(found.param) !== -1 && this._inputs[field].value) this.showError(found);
  };

  CardFields.prototype._clear = function (field) {
    this._errors[field].textContent = "";
    this._inputs[field].removeAttribute("aria-invalid");
  };

  // Show an error (from the checks here or from the API) on the field its `param` names.
  CardFields.prototype.showError = function (error) {
    var self = this;
    var field = Object.keys(FIELD_PARAMS).filter(function (f) { return FIELD_PARAMS[f].indexOf(error.param) !== -1; })[0];
    if (!field) return false;
    self._errors[field].textContent = error.message;
    self._inputs[field].setAttribute("aria-invalid", "true");
    return true;
  };

  CardFields.prototype.focus = function () { this._inputs.number.focus(); };

  CardFields.prototype.clear = function () {
    var self = this;
    Object.keys(this._inputs).forEach(function (f) { self._inputs[f].value = ""; self._clear(f); });
    this.brand = null;
    this._brand.textContent = "";
  };

  // ---- the client -----------------------------------------------------------------------------------

  function Tessera(publishableKey, options) {
    if (!(this instanceof Tessera)) return new Tessera(publishableKey, options);
    if (typeof publishableKey !== "string" || !/^pk_(test|live)_/.test(publishableKey)) {
      throw new Error("Tessera needs a publishable key (pk_test_... or pk_live_...); never use a secret key in a page");
    }
    options = options || {};
    this._key = publishableKey;
    this._base = String(options.baseUrl || scriptOrigin() || "").replace(/\/+$/, "");
    this._fields = null;
    this.version = VERSION;
  }

  // Where this script came from: the Tessera server a page loads it from is the one it talks to.
  var loadedFrom = (function () {
    var script = global.document && global.document.currentScript;
    try { return script && script.src ? new URL(script.src).origin : null; } catch (e) { return null; }
  })();
  function scriptOrigin() { return loadedFrom; }

  Tessera.prototype.mountCardFields = function (target) {
    var container = typeof target === "string" ? global.document.querySelector(target) : target;
    if (!container) throw new Error("Tessera.mountCardFields: no element " + target);
    this._fields = new CardFields(container);
    return this._fields;
  };

  // Resolves to the token object (its id in `token` and `id`) or to {error: {code, message, param}};
  // never rejects. With no card given, the mounted fields are tokenized.
  Tessera.prototype.createToken = function (card) {
    var fields = card === undefined ? this._fields : null;
    if (card === undefined && !fields) {
      return Promise.resolve({ error: problem("card", "No card was given and no card fields are mounted.", "parameter_missing") });
    }
    var data = fields ? fields.read() : normalise(card);
    var found = validateCard(data);
    if (found) {
      if (fields) fields.showError(found);
      return Promise.resolve({ error: found });
    }
    var request = {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "origin",
      headers: { "Authorization": "Bearer " + this._key, "Content-Type": "application/json", "Idempotency-Key": randomKey() },
      body: JSON.stringify({ card: data }),
    };
    return global.fetch(this._base + "/v1/tokens", request).then(function (response) {
      return response.json().then(function (body) {
        if (response.ok && body && body.id) {
          body.token = body.id;
          return body;
        }
        var error = (body && body.error) || { code: "api_error", message: "The card could not be tokenized." };
        error = { code: error.code, message: error.message, param: error.param };
        if (fields) fields.showError(error);
        return { error: error };
      }, function () {
        return { error: { code: "api_error", message: "Tessera answered something that is not JSON." } };
      });
    }, function () {
      return { error: { code: "network_error", message: "Tessera could not be reached (network error or origin not allowed)." } };
    });
  };

  function normalise(card) {
    card = card || {};
    var out = { number: digitsOf(card.number), exp_month: card.exp_month, exp_year: card.exp_year };
    if (card.cvc != null && card.cvc !== "") out.cvc = String(card.cvc);
    if (card.name) out.name = String(card.name);
    return out;
  }

  // 3-D Secure: `next` is a payment's redirect_url or the payment itself (202 requires_action). The
  // challenge runs in a modal iframe (or, with {mode: "redirect"}, in the whole window). It ends when the
  // frame reaches the payment's return_url on this page's origin (with `payment_id` and `status`), or,
  // for a payment made without one, when Tessera's own status page in the frame posts them to this page;
  // either resolves as {id, status}. The status a browser reports is only a hint: the merchant's server
  // must read the payment with its secret key.
  Tessera.prototype.handleNextAction = function (next, options) {
    options = options || {};
    var url = typeof next === "string" ? next : next && next.redirect_url;
    if (next && typeof next === "object" && next.status && next.status !== "requires_action") {
      return Promise.resolve({ id: next.id, status: next.status });
    }
    if (!url) return Promise.resolve({ error: problem("redirect_url", "There is no redirect_url to follow.") });
    if (options.mode === "redirect") {
      global.location.assign(url);
      return new Promise(function () {});
    }
    var doc = global.document;
    return new Promise(function (resolve) {
      var overlay = doc.createElement("div");
      overlay.className = "tessera-3ds";
      overlay.setAttribute("role", "dialog");
      overlay.setAttribute("aria-modal", "true");
      overlay.setAttribute("aria-label", "Confirm the payment with your bank");
      overlay.style.cssText = "position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.55);" +
        "display:flex;align-items:center;justify-content:center";
      var box = doc.createElement("div");
      box.style.cssText = "background:#fff;border-radius:8px;width:min(480px,96vw);height:min(640px,92vh);" +
        "display:flex;flex-direction:column;overflow:hidden";
      var close = doc.createElement("button");
      close.type = "button";
      close.textContent = "Cancel";
      close.setAttribute("aria-label", "Cancel the bank's verification");
      close.style.cssText = "align-self:flex-end;margin:6px";
      var frame = doc.createElement("iframe");
      frame.title = "Your bank's verification page";
      frame.style.cssText = "border:0;flex:1;width:100%";
      box.appendChild(close);
      box.appendChild(frame);
      overlay.appendChild(box);
      var api = "";
      try { api = new URL(url, global.location.href).origin; } catch (e) { /* no message will match */ }
      function onMessage(event) {
        var data = event.data;
        if (event.source !== frame.contentWindow || event.origin !== api) return;
        if (data && data.tessera === "payment" && data.id && data.status) {
          finish({ id: String(data.id), status: String(data.status) });
        }
      }
      function finish(result) {
        global.removeEventListener("message", onMessage);
        overlay.remove();
        resolve(result);
      }
      global.addEventListener("message", onMessage);
      close.addEventListener("click", function () {
        finish({ error: { code: "authentication_canceled", message: "The verification was canceled." } });
      });
      frame.addEventListener("load", function () {
        var here;
        try { here = frame.contentWindow.location.href; } catch (e) { return; } // still at the bank
        var found = null;
        try { found = new URL(here).searchParams; } catch (e) { return; }
        if (found.get("payment_id") && found.get("status")) {
          finish({ id: found.get("payment_id"), status: found.get("status") });
        }
      });
      doc.body.appendChild(overlay);
      frame.src = url;
    });
  };

  Tessera.version = VERSION;
  // The pure checks, for pages that build their own fields (and for tests).
  Tessera.card = {
    luhnValid: luhnValid,
    detectBrand: detectBrand,
    formatNumber: formatNumber,
    formatExpiry: formatExpiry,
    parseExpiry: parseExpiry,
    validate: validateCard,
    expiryProblem: expiryProblem,
  };
  global.Tessera = Tessera;
})(typeof window !== "undefined" ? window : this);
