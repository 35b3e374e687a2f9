"""Model providers behind one small interface (see base.py). Imported only when a model runs."""
