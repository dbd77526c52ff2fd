"""Serial kernels kept as machine code on disk, and loaded again without starting Numba.

Numba's own disk cache needs Numba: in a fresh process, importing it and filling its registries
costs about half a second before the first cached kernel runs, more than a whole warm fit. So when
Numba compiles a serial entry point of a generated kernel, the object code it made (the function
and everything it calls, already linked into one object) is also written next to the kernel's
source, in one file with a description of the arguments (:func:`path`). A later process loads that object into an LLVM
execution engine of its own (llvmlite, which Numba is built on, imports in a few milliseconds) and
calls it through ``ctypes`` with Numba's calling convention: a status, a pointer for the return
value, one for exception information, then each argument's members (an array's are its memory
record, parent object, size, item size, data pointer, shape and strides).

It is only used where it is safe; anything else returns ``None`` and the caller goes through Numba:

- the object must be an ELF object (Linux) made for this CPU: the triple, CPU name and features
  Numba compiled for must equal this machine's;
- its checksum must match the one written with it (a damaged or truncated file is never loaded);
- every symbol it needs must resolve: the C library, Python's C API, and the helpers of Numba's
  two C extensions (``_helperlib``, ``_nrt_python``), which are loaded on their own, without the
  ``numba`` package, and registered under their usual names so that a later ``import numba``
  uses the same ones;
- each call checks that the arguments have the types the code was compiled for, and a call whose
  status is not success is repeated through Numba (which then raises its own error).

Parallel entry points need Numba's thread pool and are never stored here.

>>> from pathlib import Path
>>> load(Path("no-such-folder/nfit_k_0.py"), "nll_serial", fallback=None) is None  # nothing stored
True
"""
from __future__ import annotations

import builtins
import ctypes
import glob
import hashlib
import importlib.util
import json
import os
import struct
import sys
import threading
import weakref
from pathlib import Path

import numpy as np

from . import store

__all__ = ["save", "load", "NativeFunction", "Damaged", "path", "machine", "undefined_symbols"]

FORMAT = 3  # 2: description and code in one file; 3: bound to the checksum of its source
_SUCCESS = (0, -2)  # Numba's status codes for "returned a value" and "returned None"
_lock = threading.RLock()
_state: dict = {}


MAGIC = b"nfit stored kernel\n"


def path(source: Path, entry: str) -> Path:
    """The file of entry point ``entry`` of the kernel module at ``source`` for this machine: :data:`MAGIC`,
    the length of the description (8 bytes, little-endian), the description (JSON), then the object
    code. One file, replaced atomically, so concurrent writers never leave a description with
    another's code; the name carries a tag of the machine (:func:`machine`), so machines of another
    CPU that share the folder keep their own.

    >>> name = path(Path("cache/nfit_k_1a2b.py"), "nll_serial").name
    >>> name.startswith("nfit_k_1a2b.nll_serial.") and name.endswith(".native")
    True
    """
    if "tag" not in _state:
        _state["tag"] = hashlib.sha256(json.dumps(_machine_cached()).encode()).hexdigest()[:12]
    return source.with_name(f"{source.stem}.{entry}.{_state['tag']}.native")


def _pack(description: dict, code: bytes) -> bytes:
    text = json.dumps(description, sort_keys=True).encode()
    return MAGIC + len(text).to_bytes(8, "little") + text + code


def _unpack(data: bytes) -> tuple:
    if not data.startswith(MAGIC):
        raise ValueError("not a stored kernel")
    start = len(MAGIC) + 8
    length = int.from_bytes(data[len(MAGIC):start], "little")
    if len(data) < start + length:
        raise ValueError("truncated")
    return json.loads(data[start:start + length]), data[start + length:]


class Damaged(ValueError):
    """Stored machine code that does not match its description (damaged, truncated, or from another
    version of this format): the caller deletes it and compiles anew."""


# ---------------------------------------------------------------------- argument types
def _describe_type(numba_type):
    """A Numba argument type as recorded: ``["array", dtype, ndim, layout, writeable]``, ``["float64"]``
    or ``["int64"]``; None for any other type."""
    from numba.core import types

    if isinstance(numba_type, types.Array):
        if numba_type.dtype not in (types.float64, types.int64) or not numba_type.aligned:
            return None
        return ["array", str(numba_type.dtype), numba_type.ndim, numba_type.layout, bool(numba_type.mutable)]
    if numba_type == types.float64:
        return ["float64"]
    if numba_type == types.int64:
        return ["int64"]
    return None


def describe_value(value):
    """The recorded type (see :func:`_describe_type`) Numba would give ``value``, without Numba; None
    for a value of another type.

    >>> import numpy as np
    >>> describe_value(np.zeros(3)), describe_value(1.5)
    (['array', 'float64', 1, 'C', True], ['float64'])
    """
    if type(value) is np.ndarray:
        if value.dtype not in (np.float64, np.int64) or not value.flags.aligned:
            return None
        layout = "C" if value.flags.c_contiguous else ("F" if value.flags.f_contiguous else "A")
        return ["array", str(value.dtype), value.ndim, layout, bool(value.flags.writeable)]
    if isinstance(value, (float, np.float64)):
        return ["float64"]
    if isinstance(value, (int, np.int64)) and not isinstance(value, bool):
        return ["int64"]
    return None


def numba_type(described):
    """The Numba type of a recorded type (the inverse of :func:`_describe_type`)."""
    from numba.core import types

    if described[0] == "array":
        dtype = {"float64": types.float64, "int64": types.int64}[described[1]]
        return types.Array(dtype, described[2], described[3], readonly=not described[4])
    return {"float64": types.float64, "int64": types.int64}[described[0]]


def _abi(described) -> list:
    """The machine-level arguments of one Python-level argument (Numba's data model, flattened)."""
    if described[0] == "array":
        ndim = described[2]
        return ["ptr", "ptr", "i64", "i64", "ptr"] + ["i64"] * (2 * ndim)
    return {"float64": ["double"], "int64": ["i64"]}[described[0]]


# ---------------------------------------------------------------------- saving
def save(source: Path, entry: str, dispatcher) -> bool:
    """Write the object code Numba has just compiled for ``dispatcher`` (its only signature).

    Returns False, writing nothing, where the code cannot be stored: it came from Numba's cache
    (whose loader keeps no object code), an argument type is not one :func:`load` can pass, or
    Numba's calling convention is not the one described here."""
    try:
        if len(dispatcher.overloads) != 1:
            return False
        (cres,) = dispatcher.overloads.values()
        code = cres.library._get_compiled_object()
        if not code or code[:4] != b"\x7fELF":
            return False
        args = [_describe_type(t) for t in cres.signature.args]
        ret = {"float64": "float64", "none": "none"}.get(str(cres.signature.return_type))
        if ret is None or any(a is None for a in args):
            return False
        context = cres.target_context
        fnty = context.call_conv.get_function_type(cres.signature.return_type, cres.signature.args)
        expected = [kind for a in args for kind in _abi(a)]
        actual = [_llvm_kind(str(t)) for t in fnty.args[2:]]
        if actual != expected:
            return False
        description = {
            "format": FORMAT,
            "kernel": source.stem,
            "entry": entry,
            "name": cres.fndesc.mangled_name,
            "args": args,
            "return": ret,
            "machine": list(context.codegen().magic_tuple()),
            "sha256": hashlib.sha256(code).hexdigest(),
            "source_sha256": store.digest(source, default=""),  # made from this source only
        }
    except Exception:  # noqa: BLE001 - storing is an optimisation: any surprise means "not stored"
        return False
    try:
        store.atomic_write(path(source, entry), _pack(description, bytes(code)))
    except OSError:
        return False
    return True


def _llvm_kind(text: str) -> str:
    if text.endswith("*") or text == "ptr":
        return "ptr"
    return {"i64": "i64", "double": "double"}.get(text, text)


# ---------------------------------------------------------------------- loading
def machine() -> list:
    """(triple, CPU name, CPU features) of this machine, as Numba's code generator names them.

    >>> triple, cpu, features = machine()
    >>> isinstance(cpu, str) and isinstance(features, str)
    True
    """
    import llvmlite.binding as ll

    try:
        features = ll.get_host_cpu_features().flatten()
    except RuntimeError:
        features = ""
    return [ll.get_process_triple(), ll.get_host_cpu_name(), features]


def load(source: Path, entry: str, fallback):
    """The stored entry point ``entry`` of the kernel module at ``source``, as a :class:`NativeFunction`
    that calls ``fallback()`` (which returns Numba's dispatcher) for what it cannot do.

    None where nothing usable is stored (no file, code for another machine, a symbol that would
    not resolve); :class:`Damaged` where the file is damaged or another kernel's (its parts do
    not match each other, or not this entry point).

    >>> load(Path("no-such-folder/nfit_k_0.py"), "nll_serial", fallback=None) is None
    True
    """
    stored = path(source, entry)
    try:
        data = stored.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Damaged(f"{stored.name}: {exc}") from None
    try:
        description, code = _unpack(data)
        if (description.get("format") != FORMAT
                or description["kernel"] != source.stem or description["entry"] != entry  # another kernel's file
                or description["source_sha256"] != store.digest(source, default="")
                or not isinstance(description["name"], str) or source.stem not in description["name"]
                or hashlib.sha256(code).hexdigest() != description["sha256"]
                or description["return"] not in ("float64", "none")):
            raise Damaged(f"{stored.name}: the code does not match its description")
        kinds = [kind for a in description["args"] for kind in _abi(a)]  # an unknown argument type raises
        machine_ok = description["machine"] == _machine_cached()
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise Damaged(f"{stored.name}: {exc}") from None
    if not machine_ok:
        return None
    with _lock:
        try:
            engine = _engine()
            if not _link(engine, code, description["name"]):
                return None
            address = _trampoline(engine, description["name"], kinds)
        except (ValueError, IndexError, struct.error, UnicodeDecodeError) as exc:
            raise Damaged(f"{stored.name}: {exc}") from None
        except RuntimeError:
            return None
    function = NativeFunction(address, description, fallback, f"{source.stem}.{entry}")
    function._engine = engine  # the code lives as long as the function
    return function


def _machine_cached():
    if "machine" not in _state:
        _state["machine"] = machine()
    return _state["machine"]


def _register_symbols():
    """Make Numba's C helpers, Python's ``None`` and exception types known to LLVM (once per process)."""
    if "symbols" in _state:
        return
    import llvmlite.binding as ll

    ll.initialize_native_target()
    ll.initialize_native_asmprinter()
    for name, helpers in _numba_helpers().items():
        for key, address in helpers.items():
            if name == "_helperlib":
                ll.add_symbol("numba_" + key, address)
            else:
                ll.add_symbol(key if key.startswith("_") else "NRT_" + key, address)
    ll.add_symbol("_Py_NoneStruct", id(None))
    for name, value in vars(builtins).items():  # as Numba does, not relying on Python's exported symbols
        if isinstance(value, type) and issubclass(value, BaseException):
            ll.add_symbol(f"PyExc_{name}", id(value))
    _state["symbols"] = True


def _engine():
    """A new LLVM execution engine, for one stored entry point: its machine code is freed with the
    engine, when the last function that calls it is gone (one engine for all would keep every
    kernel ever loaded)."""
    import llvmlite.binding as ll

    _register_symbols()
    target = ll.Target.from_default_triple()
    tm = target.create_target_machine(cpu=ll.get_host_cpu_name(), opt=0, codemodel="jitdefault")
    module = ll.parse_assembly("")
    module.triple = ll.get_process_triple()
    return ll.create_mcjit_compiler(module, tm)


def _numba_helpers() -> dict:
    """The ``c_helpers`` tables (name -> address) of Numba's C extensions ``_helperlib`` and
    ``_nrt_python``. Where Numba is imported, its own modules; else the two extensions are loaded
    from Numba's folder under their full names (their initialisation imports only NumPy's C API)."""
    found = {}
    for dotted in ("numba._helperlib", "numba.core.runtime._nrt_python"):
        module = sys.modules.get(dotted)
        if module is None:
            spec = importlib.util.find_spec("numba")
            if spec is None or not spec.origin:
                raise RuntimeError("Numba is not installed")
            parts = dotted.split(".")[1:]
            pattern = os.path.join(os.path.dirname(spec.origin), *parts[:-1], parts[-1] + ".*")
            candidates = [p for p in glob.glob(pattern) if p.endswith((".so", ".pyd"))]
            if len(candidates) != 1:
                raise RuntimeError(f"cannot find Numba's {dotted}")
            module = store.import_file(dotted, candidates[0])
        found[dotted.rsplit(".", 1)[1]] = module.c_helpers
    return found


def _link(engine, code: bytes, name: str) -> int:
    """Add ``code`` to ``engine`` and return the address of function ``name``; 0 where a symbol it
    needs would not resolve (LLVM would abort the process on it)."""
    import llvmlite.binding as ll

    for symbol in undefined_symbols(code):
        if "numba_unresolved" in symbol or ll.address_of_symbol(symbol) is None:
            return 0
    engine.add_object_file(ll.ObjectFileRef.from_data(code))
    engine.finalize_object()
    return engine.get_function_address(name)


def _trampoline(engine, name: str, kinds: list) -> int:
    """Address of ``int32 call(int64 *members, double *result, void **excinfo)``, which loads the
    machine-level arguments of entry point ``name`` (of LLVM types ``kinds``, :func:`_abi`) from
    ``members`` and calls it: one ``ctypes`` call with three pointers instead of dozens of converted
    arguments (about 15 µs a call)."""
    import llvmlite.binding as ll

    symbol = "nfit_call_" + hashlib.sha256(name.encode()).hexdigest()[:24]
    if _opaque_pointers():
        lines = [f'declare i32 @"{name}"({", ".join(["ptr", "ptr"] + kinds)})',
                 f'define i32 @"{symbol}"(ptr %members, ptr %result, ptr %excinfo) {{']
        call = ["ptr %result", "ptr %excinfo"]
        for j, kind in enumerate(kinds):
            lines += [f"  %m{j} = getelementptr i64, ptr %members, i64 {j}",
                      f"  %a{j} = load {kind}, ptr %m{j}"]
            call.append(f"{kind} %a{j}")
    else:  # LLVM with typed pointers (llvmlite < 0.45): every pointer an i8*, the members cast
        kinds = ["i8*" if kind == "ptr" else kind for kind in kinds]
        lines = [f'declare i32 @"{name}"({", ".join(["i8*", "i8*"] + kinds)})',
                 f'define i32 @"{symbol}"(i8* %members, i8* %result, i8* %excinfo) {{',
                 "  %words = bitcast i8* %members to i64*"]
        call = ["i8* %result", "i8* %excinfo"]
        for j, kind in enumerate(kinds):
            lines += [f"  %m{j} = getelementptr i64, i64* %words, i64 {j}",
                      f"  %p{j} = bitcast i64* %m{j} to {kind}*",
                      f"  %a{j} = load {kind}, {kind}* %p{j}"]
            call.append(f"{kind} %a{j}")
    lines += [f'  %status = call i32 @"{name}"({", ".join(call)})', "  ret i32 %status", "}"]
    module = ll.parse_assembly("\n".join(lines))
    module.triple = ll.get_process_triple()
    module.verify()
    engine.add_module(module)
    engine.finalize_object()
    return engine.get_function_address(symbol)


def _opaque_pointers() -> bool:
    """Whether this llvmlite's LLVM reads opaque pointers (``ptr``); older ones need typed ones."""
    import llvmlite.binding as ll

    return ll.llvm_version_info[0] >= 16  # llvmlite 0.44 (LLVM 15) still runs LLVM in typed mode


def undefined_symbols(code: bytes) -> list:
    """The names an ELF64 little-endian object needs from elsewhere (its undefined symbols).

    >>> undefined_symbols(b"not an object")
    Traceback (most recent call last):
    ...
    ValueError: not a 64-bit little-endian ELF object
    """
    if code[:6] != b"\x7fELF\x02\x01":
        raise ValueError("not a 64-bit little-endian ELF object")
    (shoff,) = struct.unpack_from("<Q", code, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", code, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", code, shoff + i * shentsize) for i in range(shnum)]
    names = []
    for _, sh_type, _, _, offset, size, link, _, _, entsize in sections:
        if sh_type != 2 or not entsize:  # SHT_SYMTAB
            continue
        str_offset, str_size = sections[link][4], sections[link][5]
        strings = code[str_offset:str_offset + str_size]
        for k in range(size // entsize):
            st_name, _, _, st_shndx, _, _ = struct.unpack_from("<IBBHQQ", code, offset + k * entsize)
            if st_shndx == 0 and st_name:
                end = strings.index(b"\0", st_name)
                names.append(strings[st_name:end].decode())
    return names


class NativeFunction:
    """A stored serial entry point, called through ``ctypes``; arguments of other types, and calls
    that do not succeed, go to Numba's dispatcher (``fallback()``).

    The arguments' machine-level members are written into one buffer that the trampoline reads;
    an array that is the same object as in the previous call is not written again (it is
    remembered by a weak reference, so the function keeps no data alive)."""

    def __init__(self, address, description, fallback, name="kernel"):
        self.name = name
        self.description = description
        self._fallback = fallback
        self._args = description["args"]
        self._offsets = []
        offset = 0
        for kind in self._args:
            self._offsets.append(offset)
            offset += len(_abi(kind))
        self._members = np.zeros(max(offset, 1), dtype=np.int64)
        self._members_float = self._members.view(np.float64)
        self._members_view = memoryview(self._members)  # faster one-element writes than the array's
        self._write = [self._writer(kind) for kind in self._args]
        self._last = [None] * len(self._args)
        self._busy = threading.Lock()
        self._result = np.zeros(2)  # the return slot (8 bytes are written; a None return writes none)
        self._excinfo = np.zeros(1, dtype=np.int64)
        self._pointers = (self._members.__array_interface__["data"][0], self._result.__array_interface__["data"][0],
                          self._excinfo.__array_interface__["data"][0])
        self._function = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)(address)
        self._returns_value = description["return"] == "float64"

    def __repr__(self):
        return f"<NativeFunction {self.name} (stored machine code)>"

    def __call__(self, *args):
        if len(args) != len(self._args):
            return self._fallback()(*args)
        with self._busy:  # one members buffer and one result slot: one call at a time
            status = self._call(args)
            result = float(self._result[0]) if self._returns_value else None
        if status is None or status not in _SUCCESS:
            return self._fallback()(*args)  # Numba takes other types, and raises its own errors
        return result

    def _call(self, args):
        last, write = self._last, self._write
        for j, value in enumerate(args):
            previous = last[j]
            if previous is not None and previous() is value:
                continue
            if not write[j](value, self._offsets[j]):
                last[j] = None
                return None
            last[j] = weakref.ref(value) if isinstance(value, np.ndarray) else None
        return self._function(*self._pointers)

    def _writer(self, kind):
        """A function that writes one argument's members at an offset, False if it has another type."""
        if kind[0] == "float64":
            def write_float(value, start):
                if not isinstance(value, (float, np.float64)):
                    return False
                self._members_float[start] = value
                return True
            return write_float
        if kind[0] == "int64":
            def write_int(value, start):
                if not isinstance(value, (int, np.int64)) or isinstance(value, bool):
                    return False
                self._members[start] = value
                return True
            return write_int
        dtype, ndim, layout, writeable = np.dtype(kind[1]), kind[2], kind[3], kind[4]
        members = self._members_view

        def write_array(value, start):
            if type(value) is not np.ndarray or value.dtype != dtype or value.ndim != ndim:
                return False
            flags = value.flags
            if (not flags.aligned or flags.writeable != writeable
                    or (layout == "C" and not flags.c_contiguous) or (layout == "F" and not flags.f_contiguous)):
                return False
            members[start + 2] = value.size
            members[start + 3] = value.itemsize
            members[start + 4] = value.__array_interface__["data"][0]
            k = start + 5
            for extent in value.shape:
                members[k] = extent
                k += 1
            for stride in value.strides:
                members[k] = stride
                k += 1
            return True
        return write_array
