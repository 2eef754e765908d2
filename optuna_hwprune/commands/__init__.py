"""Sub-commands of ``hwprune``; each module exposes ``register(subparsers)``."""
