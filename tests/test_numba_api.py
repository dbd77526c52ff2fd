"""The places nfit reaches into Numba beyond its documented API (nfit.compile.numba_api), checked
against the installed Numba, so that a Numba release that moves them fails here first."""
import numba
import numpy as np
import pytest
from numba import types

from nfit.compile import numba_api


def test_typing_errors_are_told_from_other_failures():
    @numba.njit
    def bad(x):
        return x.no_such_attribute

    with pytest.raises(Exception) as info:
        bad(1.0)
    assert numba_api.is_typing_error(info.value)
    assert not numba_api.is_typing_error(OSError("a damaged cache file"))


def test_wrapper_address_of_a_compiled_overload():
    @numba.njit
    def twice(x):
        return 2.0 * x

    args = (types.float64,)
    numba_api.compile_uncached(twice, args)
    assert args in twice.overloads
    address = numba_api.wrapper_address(twice, args)
    assert isinstance(address, int) and address != 0
    assert twice(3.0) == 6.0


def test_cache_locators_are_registered_for_kernel_clones():
    from numba.core import caching

    from nfit.compile import jitmodule

    jitmodule._register_clone_cache()
    names = [cls.__name__ for cls in caching.CacheImpl._locator_classes]
    assert any(name.startswith("KernelClone") for name in names)
    # a locator of ours declines functions that are not clones, so Numba's own locators take them
    ours = next(cls for cls in caching.CacheImpl._locator_classes if cls.__name__.startswith("KernelClone"))
    assert ours.from_function(np.sum, __file__) is None
