"""Custom strategy code, run only here: in a confined subprocess of a worker.

The interface a custom strategy implements (its module defines one of the two):

``targets(bars, params) -> array (n_bars, n_markets)``
    Vectorized: the whole panel at once; returns signed target contracts per bar and market
    (positive long, negative short, 0 flat, NaN = keep the position). Orders fill on the bar
    after the signal (the simulation's ``fill_delay``), so using bar ``t``'s close at ``t`` is
    fine, but the function *can* look ahead: prefer ``on_bar`` if unsure.

``on_bar(i, bars, params, state) -> sequence of n_markets targets``
    Event-driven: called for bar ``i`` with the bars up to and including ``i`` only (no look
    ahead by construction); ``state`` is a dict kept between calls. A failure names its bar.

``bars`` has ``ts`` (int64 ns since the epoch, UTC), ``markets`` (tuple of roots) and float
arrays ``open``, ``high``, ``low``, ``close``, ``volume`` of shape (n_bars, n_markets), NaN
where a market has no bar; ``params`` is the ``strategy.params`` dict of the backtest. ``np``
(NumPy) is available without import. Select it with ``strategy.name = "custom:<strategy id>"``.

The code runs with a CPU-time and a memory limit, no network, as an unprivileged user, and may
write only inside its temporary folder. Code that raises, loops, eats memory or reaches for the
network fails its job with the reason (and the traceback and the bar), and the worker goes on.
"""

from contango.workers.sandbox.run import SandboxLimits, run_custom_targets, sandboxed_targets

__all__ = ["SandboxLimits", "run_custom_targets", "sandboxed_targets"]
