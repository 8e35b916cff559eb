"""The HTML pages shoppers see: the sandbox ACS's challenge, and auto-submitting forms.

Plain HTML with escaped values; every page works without JavaScript (a form with a visible button in
`<noscript>`), and shows a card only as BIN + last 4.
"""

from __future__ import annotations

import json
from functools import lru_cache
from html import escape
from typing import Any

from iso4217 import Currency

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:2rem 1rem;color:#1d2330}
main{max-width:26rem;margin:auto;background:#fff;border-radius:10px;padding:1.5rem 1.75rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.15rem;margin:0 0 1rem} dl{display:grid;grid-template-columns:auto 1fr;gap:.35rem 1rem;margin:0 0 1.25rem}
dt{color:#5b6475} dd{margin:0;font-weight:600} label{display:block;font-weight:600;margin-bottom:.4rem}
input[type=text]{font-size:1.2rem;padding:.5rem;width:100%;box-sizing:border-box;letter-spacing:.2em}
.buttons{display:flex;gap:.75rem;margin-top:1rem} button{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;
border:1px solid #2d5bd7;background:#2d5bd7;color:#fff;cursor:pointer} button.secondary{background:#fff;color:#2d5bd7}
.hint{color:#5b6475;font-size:.85rem;margin-top:1rem}
"""


def _page(title: str, body: str, *, autosubmit: bool = False) -> str:
    script = "<script>document.forms[0].submit()</script>" if autosubmit else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width,initial-scale=1"><title>{escape(title)}</title><style>{_STYLE}</style>'
        f"</head><body><main>{body}</main>{script}</body></html>"
    )


@lru_cache(maxsize=256)
def _alpha(numeric: str) -> tuple[str, int]:
    for currency in Currency:
        if currency.number is not None and int(currency.number) == int(numeric):
            return currency.code, int(currency.exponent or 0)
    return numeric, 2


def format_amount(amount: int, currency_numeric: str, exponent: int) -> str:
    """`INR 1,234.50`: the currency's code, grouped thousands and its own number of decimals."""
    code, _ = _alpha(currency_numeric)
    whole, frac = divmod(amount, 10**exponent) if exponent else (amount, 0)
    text = f"{whole:,}" + (f".{frac:0{exponent}d}" if exponent else "")
    return f"{code} {text}"


def challenge(row: Any, *, form_token: str, session_data: str) -> str:
    amount = format_amount(row.amount, row.currency_numeric, row.exponent)
    body = f"""
<h1>Confirm your payment</h1>
<dl><dt>Merchant</dt><dd>{escape(row.merchant_name)}</dd><dt>Amount</dt><dd>{escape(amount)}</dd>
<dt>Card</dt><dd>{escape(row.masked_card)}</dd></dl>
<form method="post" action="/sandbox/acs/challenge/answer">
<input type="hidden" name="acs_trans_id" value="{escape(row.acs_trans_id)}">
<input type="hidden" name="form_token" value="{escape(form_token)}">
<input type="hidden" name="threeDSSessionData" value="{escape(session_data)}">
<label for="otp">One-time password</label>
<input type="text" id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" maxlength="12" autofocus>
<div class="buttons"><button type="submit" name="action" value="submit">Submit</button>
<button type="submit" name="action" value="cancel" class="secondary">Cancel</button></div>
</form>
<p class="hint">Sandbox bank: the one-time password is 123456.</p>"""
    return _page("Confirm your payment", body)


def post_form(url: str, fields: dict[str, str], *, title: str) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">' for name, value in fields.items()
    )
    body = (
        f'<h1>{escape(title)}</h1><form method="post" action="{escape(url)}">{hidden}'
        f'<noscript><p>JavaScript is off: press Continue.</p><button type="submit">Continue</button></noscript></form>'
    )
    return _page(title, body, autosubmit=True)


def ended(message: str) -> str:
    return _page("Authentication", f"<h1>Authentication</h1><p>{escape(message)}</p>")


def status_page(payment_id: str, status: str) -> str:
    """Where a shopper ends when the payment has no return URL. Framed by tessera.js's 3-D Secure helper, it
    tells the page around it the payment's id and status (a hint only: the merchant's server reads the
    payment with its key), so the helper also works for a payment made without a return URL."""
    body = f"<h1>Payment {escape(status)}</h1><p>Payment <code>{escape(payment_id)}</code> is {escape(status)}.</p>"
    message = json.dumps({"tessera": "payment", "id": payment_id, "status": status}).replace("<", "\\u003c")
    script = f'<script>if (window.parent !== window) window.parent.postMessage({message}, "*");</script>'
    return _page("Payment status", body).replace("</body>", f"{script}</body>")
