"""Provider adapters: one folder per provider, each thin (parse, call, render)."""
