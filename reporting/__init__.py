"""Comparison report for ministries: facts and prices (data/), previews, cost model, rendering."""
