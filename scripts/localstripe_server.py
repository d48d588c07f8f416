#!/usr/bin/env python3
"""Run the localstripe fake Stripe API on 127.0.0.1.

localstripe's own command line binds every interface and pickles its whole
state to the fixed file /tmp/localstripe.pickle after each change, so two
instances on one machine would overwrite each other's data. This wrapper
serves the same aiohttp application, bound to 127.0.0.1 only, and keeps the
state either in memory (default) or in the file given by --state-file.
"""

import argparse
import logging
import os
import pickle
import sys

from aiohttp import web
from localstripe import resources, server


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

    access_log = logging.getLogger("aiohttp.access")
    access_log.setLevel(logging.INFO)
    access_log.addHandler(logging.StreamHandler())

    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=access_log)


if __name__ == "__main__":
    main()
