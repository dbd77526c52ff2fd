"""Architecture rules that a change must keep: no import cycles between nfit's modules (at module level
or inside functions), and no module outside nfit.compile.numba_api and nfit.compile.native reaching
into Numba's private API."""
import collections
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1] / "nfit"


def _module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph():
    modules = {_module_name(f): f for f in ROOT.rglob("*.py")}
    graph = collections.defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for line in path.read_text().splitlines():
            match = re.match(r"\s*from (\.+)([\w.]*) import (.+)", line)
            if not match:
                continue
            dots, rest, names = match.groups()
            base = package.split(".")[: len(package.split(".")) - (len(dots) - 1)]
            target = ".".join(base + ([rest] if rest else []))
            if rest and target in modules:
                graph[name].add(target)
            for imported in names.replace("(", "").split(","):
                imported = imported.strip().split(" ")[0]
                if f"{target}.{imported}" in modules:
                    graph[name].add(f"{target}.{imported}")
    return {m: graph[m] - {m} for m in modules}


def test_no_import_cycles():
    graph = _import_graph()
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for target in sorted(graph[node]):
            if target == "nfit":  # the package itself re-exports everything
                continue
            if state.get(target) == "open":
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_numbas_private_api_stays_in_its_module():
    allowed = {"compile/numba_api.py", "compile/native.py", "compile/parallel.py", "compile/jitmodule.py"}
    private = re.compile(r"\._locator_classes|_hash_source_file|CompileResultWAP|NullCache|\.overloads\[")
    offenders = [str(f.relative_to(ROOT)) for f in ROOT.rglob("*.py")
                 if str(f.relative_to(ROOT)) not in allowed and private.search(f.read_text())]
    assert offenders == []
    for name in ("compile/parallel.py", "compile/jitmodule.py"):  # these go through numba_api now
        assert not private.search((ROOT / name).read_text()), name


def test_backend_choice_lives_in_the_backend_layer():
    """No module outside nfit.backends (and run, which holds the user's settings) compares a path or
    backend name, imports a backend's module, or lowers and loads kernels itself."""
    choice = re.compile(r"""(mode|backend)\s*[!=]=\s*["'](eager|compiled|numba|cuda)["']"""
                        r"|from \.+compile\.(lower|cuda) import|cache\.load\(|from \.+backends\.(eager|numba_cpu)")
    allowed = {"run.py", "gpu.py"}
    offenders = [str(f.relative_to(ROOT)) for f in ROOT.rglob("*.py")
                 if not str(f.relative_to(ROOT)).startswith(("backends/", "compile/"))
                 and str(f.relative_to(ROOT)) not in allowed and choice.search(f.read_text())]
    assert offenders == []


def test_every_backend_is_registered_and_answers_the_interface():
    from nfit import backends
    from nfit.backends.base import Backend

    for name in backends.names():
        backend = backends.get(name)
        assert backend.name == name
        for method in ("loss_kernel", "pdf_kernel"):
            assert getattr(type(backend), method) is not getattr(Backend, method), (name, method)


def test_every_package_is_shipped():
    """A package missing from setup.cfg's ``packages`` works in a checkout and breaks ``pip install .``."""
    text = (ROOT.parent / "setup.cfg").read_text()
    listed = set(re.search(r"packages =\n((?:    .+\n)+)", text).group(1).split())
    packages = {_module_name(f.parent / "__init__.py") for f in ROOT.rglob("__init__.py")}
    assert packages - listed == set()


def test_code_generation_edits_no_text():
    """Kernel source is printed from the IR's records (nfit.compile.ir), never rewritten with regular
    expressions."""
    for name in ("ir.py", "emitter.py", "lower.py", "cuda.py"):
        source = (ROOT / "compile" / name).read_text()
        assert "import re" not in source and ".replace(" not in source, name


def test_importing_nfit_leaves_the_heavy_modules_alone():
    """A fresh process's time to its first result starts with ``import nfit``: it must not import Numba
    (nfit loads stored kernels without it) nor SciPy's linear algebra (a third of a second here)."""
    import subprocess
    import sys

    script = "import sys, nfit; print(sorted(m for m in ('numba', 'scipy.linalg', 'scipy.stats') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
