"""Provider adapters: one folder per provider holding its webhooks and its SMS client, each thin
(parse, call, render)."""
