"""Scalar math of every shape nfit knows: densities, integrals and (later) derivatives.

Pure math: nothing here imports nfit or Numba. Each module holds one family of shapes and
defines, for each shape, ``pdf(x, *params)`` (unnormalised density; written so that it works on
a float *and* elementwise on a NumPy array) and ``integral(lower, upper, *params)`` (its
closed-form integral over ``[lower, upper]``, scalars only). The compiled path wraps these very
functions with ``numba.njit``; the eager path calls them with arrays.
"""
