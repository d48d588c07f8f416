#!/usr/bin/env python3
"""Run the localstripe fake Stripe API on 127.0.0.1.

localstripe's own command line binds every interface and pickles its whole
state to the fixed file /tmp/localstripe.pickle after each change, so two
instances on one machine would overwrite each other's data. This wrapper
serves the same aiohttp application, bound to 127.0.0.1 only, and keeps the
state either in memory (default) or in the file given by --state-file.

localstripe also renders objects as the Stripe API did in 2017, which current
clients (async-stripe 1.x) refuse to parse, and lacks a few behaviours those
clients rely on. The wrapper patches localstripe so that:

- payment intents, charges, refunds and events carry every field the current
  API always sends (also inside lists, error bodies and webhook payloads,
  which are signed after the patched rendering);
- POST requests honour the Idempotency-Key header;
- payment intents can be confirmed with `payment_method` and cancelled with
  `cancellation_reason`, and refunds created with `reason`;
- Stripe's declining test cards fail when charged, with Stripe's error codes;
- refunds send charge.refunded and refund.created, cancellations
  payment_intent.canceled;
- the refunds of a payment intent that never charged are an empty list.
"""

import argparse
import importlib
import logging
import os
import pickle
import sys
import time
import urllib.parse

from aiohttp import web
from localstripe import resources, webhooks
from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    Event,
    List,
    PaymentIntent,
    PaymentMethod,
    Refund,
)
from localstripe.webhooks import schedule_webhook


def keep_state_in_memory():
    resources.Store.try_load_from_disk = lambda self: None
    resources.Store.dump_to_disk = lambda self: None


def keep_state_in_file(path):
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)

    def load(store):
        try:
            with open(path, "rb") as f:
                saved = pickle.load(f)
        except FileNotFoundError:
            return
        except Exception as e:  # unreadable or from another localstripe version
            print(f"ignoring unreadable state file {path}: {e!r}", file=sys.stderr)
            return
        dict.clear(store)
        dict.update(store, saved)

    def dump(store):
        tmp = f"{path}.tmp"
        with open(tmp, "wb") as f:
            pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump


# ------------------------------------------------------------ object shapes


def fix_payment_intent(intent, out, expand):
    status = out["status"]
    charge = intent.latest_charge
    # `charges` left the API in 2022; `latest_charge` is an id unless expanded.
    out.pop("charges", None)
    if "latest_charge" not in expand:
        out["latest_charge"] = charge.id if charge else None
    out["amount_capturable"] = intent.amount if status == "requires_capture" else 0
    out["amount_received"] = intent.amount if status == "succeeded" else 0
    out["confirmation_method"] = "automatic"
    out["payment_method_types"] = ["card"]
    out.setdefault("canceled_at", None)
    out.setdefault("cancellation_reason", None)
    error = out.get("last_payment_error")
    if error:  # `type` is required in an error object
        if "charge" in error:
            error["type"] = "card_error"
            error["decline_code"] = getattr(charge, "_decline_code", None)
        else:  # payment_intent_authentication_failure
            error["type"] = "invalid_request_error"


def fix_charge(charge, out, expand):
    succeeded = charge.status == "succeeded" and charge.captured
    out["amount_captured"] = charge.amount if succeeded else 0
    out["billing_details"] = {
        "address": None, "email": None, "name": None, "phone": None, "tax_id": None,
    }
    out["disputed"] = False


def fix_refund(refund, out, expand):
    if out["payment_intent"] is None:  # refunds created with `charge`
        out["payment_intent"] = Charge._api_retrieve(refund.charge).payment_intent
    out.setdefault("reason", None)


def fix_event(event, out, expand):
    # Counts the registered webhooks the event is sent to.
    out["pending_webhooks"] = sum(
        1
        for hook in webhooks._webhooks.values()
        if hook.events is None or event.type in hook.events
    )
    out["request"] = {"id": None, "idempotency_key": None}
    # The data follows no single Stripe version; claiming localstripe's 2017
    # one would only make clients warn about the mismatch.
    out["api_version"] = None


def patch_export(cls, fix):
    original = cls._export

    def _export(self, expand=None):
        out = original(self, expand=expand)
        fix(self, out, {path.split(".")[0] for path in expand or ()})
        return out

    cls._export = _export


# ------------------------------------------------------------ declined cards

# What Stripe answers when these test cards are charged: (code, decline_code,
# message). localstripe itself fails only 4000000000000341 and the 3-D Secure
# cards 4000008260003178 and 4000008400001629 when charging, and otherwise
# refuses the others only when they are attached to a customer.
GENERIC_DECLINE = ("card_declined", "generic_decline", "Your card was declined.")
DECLINED_CARDS = {
    "4000000000000002": GENERIC_DECLINE,
    "4000000000000341": GENERIC_DECLINE,
    "4000000000009995": (
        "card_declined", "insufficient_funds", "Your card has insufficient funds."
    ),
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": ("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", None, "Your card has expired."),
    "4000000000000127": (
        "incorrect_cvc", None, "Your card's security code is incorrect."
    ),
    "4000000000000119": (
        "processing_error",
        None,
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "4242424242424241": ("incorrect_number", None, "Your card number is incorrect."),
}


def patch_declines():
    charging_is_declined = PaymentMethod._charging_is_declined

    def _charging_is_declined(method):
        number = getattr(method, "_card_number", None)
        return number in DECLINED_CARDS or charging_is_declined(method)

    def _set_auth_failure(charge):
        method = PaymentMethod._api_retrieve(charge.payment_method)
        number = getattr(method, "_card_number", None)
        code, decline_code, message = DECLINED_CARDS.get(number, GENERIC_DECLINE)
        charge.status = "failed"
        charge.failure_code = code
        charge.failure_message = message
        charge._decline_code = decline_code

    def _raise_failure(charge):
        error = UserError(402, charge.failure_message, {
            "code": charge.failure_code,
            "decline_code": getattr(charge, "_decline_code", None),
            "charge": charge.id,
        })
        error.body["error"]["type"] = "card_error"
        if charge.payment_intent:
            intent = PaymentIntent._api_retrieve(charge.payment_intent)
            error.body["error"]["payment_intent"] = intent._export()
        raise error

    # Card and Source delegate to PaymentMethod's check.
    PaymentMethod._charging_is_declined = _charging_is_declined
    Charge._set_auth_failure = _set_auth_failure
    Charge._raise_failure = _raise_failure


# ------------------------------------------------------------ request parameters


def confirm_payment_intent(id=None, payment_method=None, **data):
    if payment_method is not None:
        if not isinstance(payment_method, str):
            raise UserError(400, "Bad request")
        intent = PaymentIntent._api_retrieve(id)
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(400, "Bad request")
        # Test ids such as pm_card_visa become a new payment method each time
        # they are looked up, so keep the one created here.
        intent.payment_method = PaymentMethod._api_retrieve(payment_method).id
        # A new attempt, after a declined one.
        intent.latest_charge = None
    return PaymentIntent._api_confirm(id=id, **data)


def cancel_payment_intent(id=None, cancellation_reason=None, **data):
    if cancellation_reason not in (
        None, "abandoned", "duplicate", "fraudulent", "requested_by_customer"
    ):
        raise UserError(400, "Bad request")
    intent = PaymentIntent._api_cancel(id=id, **data)
    intent.canceled_at = int(time.time())
    intent.cancellation_reason = cancellation_reason
    schedule_webhook(Event("payment_intent.canceled", intent))
    return intent


def patch_refund_create():
    create = Refund._api_create

    def _api_create(cls, reason=None, **data):
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise UserError(400, "Bad request")
        refund = create(**data)
        refund.reason = reason
        schedule_webhook(Event("charge.refunded", Charge._api_retrieve(refund.charge)))
        schedule_webhook(Event("refund.created", refund))
        return refund

    Refund._api_create = classmethod(_api_create)


def patch_refund_list():
    """A payment intent that never charged has no refunds (localstripe fails on it)."""
    list_all = Refund._api_list_all

    def _api_list_all(cls, url, payment_intent=None, **data):
        if payment_intent is not None:
            intent = PaymentIntent._api_retrieve(payment_intent)
            if intent.latest_charge is None:
                return List(url, limit=data.get("limit"))
        return list_all(url, payment_intent=payment_intent, **data)

    Refund._api_list_all = classmethod(_api_list_all)


def patch_routes():
    """Replace handlers in localstripe's route table, before server.py reads it."""
    replacements = {
        ("POST", "/v1/payment_intents/{id}/confirm"): confirm_payment_intent,
        ("POST", "/v1/payment_intents/{id}/cancel"): cancel_payment_intent,
    }
    resources.extra_apis[:] = [
        (method, url, replacements.get((method, url), func))
        for method, url, func in resources.extra_apis
    ]


# ------------------------------------------------------------ idempotency


@web.middleware
async def replay_idempotent_requests(request, handler):
    """Answer a repeated Idempotency-Key with the first request's response.

    Kept in the store, so a flush of the data forgets the keys too.
    """
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    store_key = f"idempotency_key:{key}"
    # Stripe compares the parameters, not the order they were encoded in.
    body = (await request.read()).decode("utf-8", "replace")
    sent = (request.path, sorted(urllib.parse.parse_qsl(body, keep_blank_values=True)))
    saved = resources.store.get(store_key)
    if saved is not None:
        first_sent, status, body = saved
        if first_sent != sent:
            error = UserError(400, (
                "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with."
            ))
            error.body["error"]["type"] = "idempotency_error"
            raise error
        return web.Response(
            status=status,
            body=body,
            content_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        response = await handler(request)
    except UserError as e:
        response = e.to_response()
    if response.status < 500 and response.content_type == "application/json":
        resources.store[store_key] = (sent, response.status, response.body)
    return response


def patch_localstripe():
    patch_export(PaymentIntent, fix_payment_intent)
    patch_export(Charge, fix_charge)
    patch_export(Refund, fix_refund)
    patch_export(Event, fix_event)
    patch_declines()
    patch_refund_create()
    patch_refund_list()
    patch_routes()
    # Imported only now: it registers the routes of the patched table.
    server = importlib.import_module("localstripe.server")
    server.app.middlewares.append(replay_idempotent_requests)
    return server.app


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument(
        "--state-file",
        help="file to load the state from and save it to; default: memory only",
    )
    args = parser.parse_args()

    if args.state_file:
        keep_state_in_file(args.state_file)
    else:
        keep_state_in_memory()
    resources.store.try_load_from_disk()
    app = patch_localstripe()

    access_log = logging.getLogger("aiohttp.access")
    access_log.setLevel(logging.INFO)
    access_log.addHandler(logging.StreamHandler())

    web.run_app(app, host="127.0.0.1", port=args.port, access_log=access_log)


if __name__ == "__main__":
    main()
