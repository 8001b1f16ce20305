"""The few pieces of ctypes the runtime's C bindings use, built on `_ctypes` directly.

Why not `import ctypes`: its module body defines some thirty C types, imports `struct` and
`types` and builds function-pointer types; on the development VM that is ~2.7 ms of every
`create`/`run`/`exec` (measured with `python -IS -c "import ctypes"` against `import _ctypes`,
both ended by `os._exit`), a tenth of runc's whole `run`. The C extension `_ctypes` itself
costs ~0.5 ms (loading it and libffi). What ctypes adds on top, for what `libc` and
`libseccomp` need, is a handful of lines, here:

- the C scalar types used in argtypes/restype (`_SimpleCData` subclasses with ctypes' type
  codes), arrays of them (`c_char * 40`), `Structure`, `byref`, `sizeof`;
- `Library`: `dlopen` plus function pointers with errno capture (`get_errno`), what
  `ctypes.CDLL(name, use_errno=True)` provides.

The objects are the real ctypes ones (`_ctypes` is where ctypes gets them from), so values,
conversions and errors behave exactly as with ctypes. Pointers are passed as `c_void_p`
(`byref(...)` results and arrays convert to it), which avoids POINTER types.
"""

from __future__ import annotations

import _ctypes
from _ctypes import Structure, byref, get_errno, sizeof

__all__ = [
    "Library",
    "Structure",
    "byref",
    "c_char",
    "c_char_p",
    "c_int",
    "c_long",
    "c_size_t",
    "c_uint",
    "c_uint32",
    "c_uint64",
    "c_ulong",
    "c_ushort",
    "c_void_p",
    "get_errno",
    "sizeof",
]


class c_int(_ctypes._SimpleCData):
    _type_ = "i"


class c_uint(_ctypes._SimpleCData):
    _type_ = "I"


class c_ushort(_ctypes._SimpleCData):
    _type_ = "H"


class c_long(_ctypes._SimpleCData):
    _type_ = "l"


class c_ulong(_ctypes._SimpleCData):
    _type_ = "L"


class c_uint64(_ctypes._SimpleCData):
    _type_ = "Q"


class c_char(_ctypes._SimpleCData):
    _type_ = "c"


class c_char_p(_ctypes._SimpleCData):
    _type_ = "z"


class c_void_p(_ctypes._SimpleCData):
    _type_ = "P"


c_uint32 = c_uint  # as ctypes defines them on Linux (int is 32 bits, long 64 on LP64)
c_size_t = c_ulong


class Library:
    """A shared library opened with dlopen(3); `function()` binds one of its symbols.

    Calls save errno right after the C function returns (`get_errno()` reads it), like
    `ctypes.CDLL(name, use_errno=True)`; they release the GIL, as ctypes' do.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._handle = _ctypes.dlopen(name, 0)  # RTLD_LOCAL; _ctypes adds RTLD_NOW

        class _Function(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
            _restype_ = c_int

        self._function_type = _Function

    def function(self, name: str, restype: type | None, *argtypes: type):  # -> a callable CFuncPtr
        """The C function `name` (AttributeError if the library lacks it). Without `argtypes`
        the call converts arguments as ctypes does (int → int, bytes → char *): right for
        variadic functions like syscall(2)."""
        function = self._function_type((name, self))
        function.restype = restype
        if argtypes:
            function.argtypes = argtypes
        return function

    def __repr__(self) -> str:
        return f"<Library {self._name}>"
