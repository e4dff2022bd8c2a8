"""Charts shared by every concern: Vega-Lite specs, their PNGs and content negotiation."""
