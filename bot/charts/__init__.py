"""Charts, drawn by matplotlib (Agg) in a helper process so the bot's event loop never waits on
importing or rendering it, and the bot process never imports matplotlib at all.

- ``health``: ``/mod stats``' chart: its data (``ChartData``, plain numbers and labels) and
  ``draw``, which runs in the helper and returns the PNG with what the figure plots, read back
  from the figure (``RenderedChart``);
- ``renderer``: ``ChartRenderer``, the helper process (spawned on the first chart, one per bot)
  and ``render``.

This package imports neither discord nor the database: the helper imports only it.
"""
