"""The ``contango`` command line: one module per command group."""
