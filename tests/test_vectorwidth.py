"""The vector width of generated kernels (nfit.compile.vectorwidth): the choice, its place in the
kernel signature, and that it reaches LLVM for kernel functions only."""
import os
import subprocess
import sys

import pytest

from nfit import cache
from nfit.compile import native, vectorwidth


@pytest.mark.parametrize("choice, width", [("256", 256), ("512", 512), ("llvm", None)])
def test_explicit_choices(choice, width):
    assert vectorwidth._choose(choice) == width


def test_auto_is_512_only_on_wide_cpus(monkeypatch):
    monkeypatch.delenv("NUMBA_CPU_NAME", raising=False)
    monkeypatch.delenv("NUMBA_CPU_FEATURES", raising=False)
    _, cpu, features = native.machine()
    wide = cpu in vectorwidth.WIDE_CPUS and "+avx512f" in features.split(",")
    assert vectorwidth._choose("auto") == (512 if wide else None)


def test_auto_leaves_llvm_s_choice_for_another_cpu(monkeypatch):
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")
    assert vectorwidth._choose("auto") is None


def test_a_bad_choice_names_the_variable():
    with pytest.raises(ValueError, match="NFIT_VECTOR_WIDTH='1024'"):
        vectorwidth._choose("1024")


def test_the_width_is_part_of_the_signature(monkeypatch):
    lowered = type("Lowered", (), {"source": "def f(): pass", "kernel_modules": []})()
    signatures = set()
    for width in (None, 256, 512):
        monkeypatch.setitem(vectorwidth._state, "width", width)
        signatures.add(cache.signature(lowered))
    assert len(signatures) == 3


def test_kernel_function_names():
    assert vectorwidth.KERNEL_FUNCTION.match("_ZN46nfit_k_4d516ae8b0f15ff16eb7d529eac3cd9538b9f8ca7_chunk0B2v1")
    assert vectorwidth.KERNEL_FUNCTION.match("_ZN4nfit9handfused11_gauss_normB2v2")
    assert not vectorwidth.KERNEL_FUNCTION.match("_ZN8__main__4loopB2v1")
    assert not vectorwidth.KERNEL_FUNCTION.match("_ZN4nfit7kernels5gauss3pdfB2v2")


_LOOP = """
import numba, numpy as np

@numba.njit(fastmath={"reassoc"})
def loop(x):
    s = 0.0
    for i in range(x.size):
        s += np.exp(x[i]) * x[i]
    return s
"""

_PROBE = f"""
import numpy as np
from nfit.compile import vectorwidth
vectorwidth.install()
widths = []
for name in ("nfit_k_0123abcd", "user_module"):
    namespace = {{"__name__": name}}
    exec({_LOOP!r}, namespace)
    x = np.linspace(0.0, 1.0, 1001)
    assert abs(namespace["loop"](x) - float(np.sum(np.exp(x) * x))) < 1e-9
    asm = next(iter(namespace["loop"].inspect_asm().values()))
    widths.append("zmm" in asm)
print(widths)
"""


@pytest.mark.skipif("+avx512f" not in native.machine()[2].split(","), reason="this CPU has no AVX-512")
@pytest.mark.parametrize("choice, expected", [("512", "[True, False]"), ("256", "[False, False]")])
def test_only_kernel_functions_get_the_width(choice, expected, tmp_path):
    env = dict(os.environ, NFIT_VECTOR_WIDTH=choice, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == expected
