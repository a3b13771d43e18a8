"""The machinery: udiff's arrays, the one dispatch point, recording, sweeps, the
registry of rules and functions, and pytrees.

Nothing here imports the namespace (``udiff.numpy``), a rule table, an inner
backend's module or a transformation: they are built on this layer.
"""
