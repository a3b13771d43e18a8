"""The transformations, side by side: the functional API (``grad``, ``jvp``, ``vjp``,
``jacfwd``...), ``vmap`` and its level, and custom rules (``custom_vjp``,
``custom_jvp``, ``checkpoint``, ``stop_gradient``).

Each is a level of :func:`udiff._machinery.dispatch.bind`: a differentiation records
through its :class:`udiff.DiffArrayBackend`, a vmap batches through its frame.
"""
