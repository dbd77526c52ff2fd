"""How generated kernels' loops are vectorised (nfit.compile.loops): the choices, their place in the
kernel signature, and that they reach LLVM for kernel functions only."""
import json
import os
import subprocess
import sys

import pytest

from nfit import cache
from nfit.compile import loops, native


@pytest.mark.parametrize("choice, width", [("256", 256), ("512", 512), ("llvm", None)])
def test_explicit_widths(choice, width):
    assert loops._choose_width(choice) == width


def test_auto_is_512_only_on_wide_cpus(monkeypatch):
    monkeypatch.delenv("NUMBA_CPU_NAME", raising=False)
    monkeypatch.delenv("NUMBA_CPU_FEATURES", raising=False)
    _, cpu, features = native.machine()
    wide = cpu in loops.WIDE_CPUS and "+avx512f" in features.split(",")
    assert loops._choose_width("auto") == (512 if wide else None)


def test_auto_leaves_llvm_s_choice_for_another_cpu(monkeypatch):
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")
    assert loops._choose_width("auto") is None


def test_bad_choices_name_the_variable():
    with pytest.raises(ValueError, match="NFIT_VECTOR_WIDTH='1024'"):
        loops._choose_width("1024")
    with pytest.raises(ValueError, match="NFIT_INTERLEAVE='0'"):
        loops._choose_interleave("0")
    with pytest.raises(ValueError, match="NFIT_STACK_REALIGN='yes'"):
        loops._choose_realign("yes")


@pytest.mark.parametrize("choice, count", [("1", 1), ("4", 4), ("llvm", None)])
def test_interleave_choices(choice, count):
    assert loops._choose_interleave(choice) == count


def test_auto_interleave_follows_the_register_file(monkeypatch):
    monkeypatch.delenv("NUMBA_CPU_NAME", raising=False)
    monkeypatch.delenv("NUMBA_CPU_FEATURES", raising=False)
    monkeypatch.setitem(loops._state, "interleave", loops.INTERLEAVE)
    cpus = {"x86_64-unknown-linux-gnu/znver3": (["x86_64-unknown-linux-gnu", "znver3", "+avx2,+fma"], True),
            "x86_64/icelake-server": (["x86_64-unknown-linux-gnu", "icelake-server", "+avx2,+avx512f"], False),
            "aarch64": (["aarch64-unknown-linux-gnu", "neoverse-v1", "+neon"], False)}
    for machine, sixteen in cpus.values():
        monkeypatch.setattr(native, "_machine_cached", lambda machine=machine: machine)
        assert loops._sixteen_registers() is sixteen
        monkeypatch.setitem(loops._state, "16 registers", sixteen)
        # a value loop keeps its 4 iterations; a Hessian loop's 21 sums spill less with 2 on 16 registers
        assert loops.interleave_for(1) == loops.INTERLEAVE
        assert loops.interleave_for(21) == (loops.INTERLEAVE_16_REGISTERS if sixteen else loops.INTERLEAVE)
        assert loops.interleave_for(None) == loops.INTERLEAVE
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")  # compiling for another CPU: the general default
    assert loops._sixteen_registers() is False


def test_generated_kernels_name_their_loops_sums():
    import numpy as np

    import nfit

    obs = nfit.Space("x_sums", -3, 3)
    mu, sigma = nfit.Parameter("mu_sums", 0.1), nfit.Parameter("sigma_sums", 1.0, 0.1, 3)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs),
                                data=nfit.Data.from_numpy(obs, np.linspace(-2, 2, 50)), mode="compiled")
    from nfit.compile.lower import lower_nll

    program = nll._program
    source = lower_nll(program.terms, program.layout, program.constraints, 2).source
    # value, 2 gradient entries, 3 Hessian entries
    assert "LOOP_SUMS = {'_chunk0': 6, '_rows1': 6}" in source


def test_every_choice_is_part_of_the_signature(monkeypatch):
    lowered = type("Lowered", (), {"source": "def f(): pass", "kernel_modules": []})()
    signatures = set()
    for width in (None, 256, 512):
        for count, sixteen in ((None, False), (4, False), (4, True)):
            for realign in (False, True):
                monkeypatch.setitem(loops._state, "width", width)
                monkeypatch.setitem(loops._state, "interleave", count)
                monkeypatch.setitem(loops._state, "16 registers", sixteen)
                monkeypatch.setitem(loops._state, "realign", realign)
                signatures.add(cache.signature(lowered))
    assert len(signatures) == 18


def test_the_interleave_hint_marks_each_loop_and_is_valid_ir():
    import llvmlite.binding as llvm
    from llvmlite import ir

    module = ir.Module("probe")
    i64 = ir.IntType(64)
    function = ir.Function(module, ir.FunctionType(i64, [i64]), "nfit_k_probe")
    entry, loop, latch, done = (function.append_basic_block(name) for name in ("entry", "loop", "latch", "done"))
    ir.IRBuilder(entry).branch(loop)
    builder = ir.IRBuilder(loop)
    i = builder.phi(i64)
    following = builder.add(i, ir.Constant(i64, 1))
    builder.cbranch(builder.icmp_signed("<", following, function.args[0]), latch, done)
    i.add_incoming(ir.Constant(i64, 0), entry)
    i.add_incoming(following, latch)
    ir.IRBuilder(latch).branch(loop)  # the back edge: a branch to a block laid out before its own
    ir.IRBuilder(done).ret(following)
    loops._tune(module, function, 512, 4, True)
    text = str(module)
    assert '"prefer-vector-width"="512"' in text
    assert '"stackrealign"' in text
    assert text.count('!"llvm.loop.interleave.count", i32 4') == 1
    assert "!llvm.loop" in text
    llvm.parse_assembly(text).verify()


def test_kernel_function_names():
    assert loops.KERNEL_FUNCTION.match("_ZN46nfit_k_4d516ae8b0f15ff16eb7d529eac3cd9538b9f8ca7_chunk0B2v1")
    assert loops.KERNEL_FUNCTION.match("_ZN4nfit9handfused11_gauss_normB2v2")
    assert not loops.KERNEL_FUNCTION.match("_ZN8__main__4loopB2v1")
    assert not loops.KERNEL_FUNCTION.match("_ZN4nfit7kernels5gauss3pdfB2v2")


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
import json
import numpy as np
from nfit.compile import loops
found = []
for name in ("llvm_s_choice", "nfit_k_0123abcd", "user_module"):
    if name == "nfit_k_0123abcd":
        loops.install()  # the first loop was compiled before: LLVM's own choices on this CPU
    namespace = {{"__name__": name}}
    exec({_LOOP!r}, namespace)
    x = np.linspace(0.0, 1.0, 1001)
    assert abs(namespace["loop"](x) - float(np.sum(np.exp(x) * x))) < 1e-9
    asm = next(iter(namespace["loop"].inspect_asm().values()))
    llvm = next(iter(namespace["loop"].inspect_llvm().values()))
    found.append({{"zmm": "zmm" in asm, "realign": '"stackrealign"' in llvm}})
print(json.dumps(found))
"""


def _probe(tmp_path, **env):
    """What a loop in a kernel module and the same loop in a user's module compile to, in a fresh
    process with ``env``: ``(kernel, user)``, each {"zmm": 512-bit registers used, "realign": the stack
    realigned}; the user's loop as LLVM compiles it without nfit's hints (on Zen 4, 512-bit vectors
    are LLVM's own choice) is checked here."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), **env)
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    llvm_s, kernel, user = json.loads(out.stdout.strip().splitlines()[-1])
    assert user == llvm_s  # nfit's hints leave a user's functions as LLVM compiles them
    return kernel, user


@pytest.mark.skipif("+avx512f" not in native.machine()[2].split(","), reason="this CPU has no AVX-512")
@pytest.mark.parametrize("choice, expected", [("512", True), ("256", False)])
def test_only_kernel_functions_get_the_width(choice, expected, tmp_path):
    kernel, _ = _probe(tmp_path, NFIT_VECTOR_WIDTH=choice)
    assert kernel["zmm"] == expected


@pytest.mark.parametrize("choice, expected", [("1", True), ("0", False)])
def test_only_kernel_functions_realign_their_stack(choice, expected, tmp_path):
    kernel, user = _probe(tmp_path, NFIT_STACK_REALIGN=choice)
    assert kernel["realign"] == expected and not user["realign"]


_FLAVOURS = """
import json
import numba
from nfit.compile import jitmodule
from nfit.kernels import gauss

once = jitmodule.jit_module(gauss).pdf
looped = jitmodule.jit_module(gauss, loop=True).pdf

# each compiled first from a caller with the other flags: Numba would let the caller's flags through
@numba.njit(fastmath={"reassoc", "contract"})
def with_flags(x):
    return once(x, 0.1, 1.5)

@numba.njit
def without_flags(x):
    return looped(x, 0.1, 1.5)

assert with_flags(0.7) == without_flags(0.7)
found = {}
for name, clone in (("once", once), ("looped", looped)):
    llvm = next(iter(clone.inspect_llvm().values()))
    products = [line for line in llvm.splitlines() if " fmul " in line]
    found[name] = {"products": len(products), "reassoc": any("reassoc" in line for line in products),
                   "arcp": all("arcp" in line for line in products if "reassoc" in line),
                   "cache": clone._cache._impl.filename_base}
print(json.dumps(found))
"""


def test_kernel_functions_get_their_flags_whoever_calls_them_first(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", _FLAVOURS], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["once"]["products"] and found["looped"]["products"]
    assert not found["once"]["reassoc"]  # called once per pass: exact IEEE arithmetic
    assert found["looped"]["reassoc"] and found["looped"]["arcp"]  # the event loops' flags
    assert found["once"]["cache"] != found["looped"]["cache"]  # each flavour in its own cache files


_HELPER_DIVISIONS = """
import importlib.util, json, sys
import numpy as np
import nfit
from nfit.compile.lower import lower_nll

obs = nfit.Space("x", -2.0, 3.0)
model = nfit.pdf.Gauss(mu=nfit.Parameter("mu", 0.2), sigma=nfit.Parameter("sigma", 1.1), obs=obs)
x = np.linspace(-1.9, 2.9, 5000)
loss = nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, x), mode="eager")
program = loss._program
lowered = lower_nll(program.terms, program.layout, program.constraints, 0)
path = sys.argv[1] + "/nfit_k_0123abcd.py"  # a generated kernel module's name: the loops' hints apply
open(path, "w").write(lowered.source)
spec = importlib.util.spec_from_file_location("nfit_k_0123abcd", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
value = module.nll_serial(np.array([0.2, 1.1]), np.array(lowered.constants), x)
assert abs(value - loss.value()) < 1e-9 * abs(value)
llvm = next(iter(module._chunk0.inspect_llvm().values()))
print(json.dumps([line.strip() for line in llvm.splitlines() if " fdiv " in line]))
"""


def test_an_event_loop_divides_by_a_parameter_once_per_pass(tmp_path):
    # the Gaussian's (x - mu) * (1 / sigma): LLVM folds the reciprocal into a division per event
    # unless the loop may use reciprocals (arcp), and then computes it once before the loop
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), NFIT_CACHE_DIR=str(tmp_path / "nfit"))
    out = subprocess.run([sys.executable, "-c", _HELPER_DIVISIONS, str(tmp_path)], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    divisions = json.loads(out.stdout.strip().splitlines()[-1])
    reordered = [line for line in divisions if "reassoc" in line]  # the kernel's, not vecmath's own log
    assert reordered and all("arcp" in line for line in reordered), divisions
