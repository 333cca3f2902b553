"""The volley protocol (PROTOCOL.md, version 1) over a WebSocket, for generated clients.

Vendored by `volley generate python`; do not edit this copy: regenerate from the
server's schema. Each SDK gets only the modules its service needs (see README.md in
volley's `templates/python/_runtime/`); the generated `client.py` imports them.

The modules import one way: `errors`, `values`, `frames`, `codec` and `credit` depend on
nothing here; `reconnect` and `transport` on `errors` and `codec`; `calls` on those;
`connection` on all of them; the optional `streams`, `server_calls`, `subscriptions`,
`topics`, `patch` and `state` on the core, and the core on none of them.
"""
