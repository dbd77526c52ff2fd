"""Lowering: a model tree (with its loss) becomes Python source for one fused Numba kernel."""
