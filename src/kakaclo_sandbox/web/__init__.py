"""The HTTP side of the sandbox: Starlette app, handlers, control surface, docs, answers."""
