"""Elements attributes <-> numpy, bit for bit, from the attribute's own storage.

Nothing here reads printed IR. Two sources of raw bytes:

* `dense<...>` (`DenseElementsAttr`): the MLIR C API's
  `mlirDenseElementsAttrGetRawData`, the element storage itself (one element
  for a splat). The Python bindings' buffer protocol covers f16/f32 but not
  bf16 ("unsupported data type for conversion to Python buffer", MLIR 22), so
  the C API is called through ctypes on the bindings' own C API library, with
  the attribute pointer from its `_CAPIPtr` capsule: one path for every type,
  NaN payloads and infinities included.
* `dense_resource<name>` (`DenseResourceElementsAttr`): the bindings give no
  access to a blob (the C API has typed getters for ints/f32/f64 only, none for
  bf16/f16). The blobs are read from the module's bytecode, which the bindings
  write (`Operation.write_bytecode`): its resource section holds each blob's
  bytes as stored. The format is MLIR's bytecode format
  (mlir/docs/BytecodeFormat.md; BytecodeReader.cpp `ResourceSectionReader`):
  sections `0` strings, `1` dialects, `5` resources, `6` resource offsets.
"""

from __future__ import annotations

import ctypes
import io

import numpy as np

from tt_dw_mlir.ir import c_api_library, c_api_pointer, ir

__all__ = ["ConstantError", "ResourceBlobs", "elements_to_numpy", "dense_to_numpy",
           "numpy_to_dense", "numpy_dtype", "element_name", "raw_dense_bytes", "is_dense_resource"]


class ConstantError(ValueError):
    """An elements attribute whose values cannot be read (the message says why)."""


# The builtin float types by name: the one table from names to types and back.
FLOAT_ELEMENT_TYPES = {"bf16": ir.BF16Type, "f16": ir.F16Type, "f32": ir.F32Type, "f64": ir.F64Type}


def element_name(element_type) -> str | None:
    """`bf16`, `f32`, `i32`, ... for a builtin float or signless integer type (or such a
    name), read from the type's class; None for any other type."""
    if isinstance(element_type, str):
        return element_type
    for name, kind in FLOAT_ELEMENT_TYPES.items():
        if isinstance(element_type, kind):
            return name
    if isinstance(element_type, ir.IntegerType) and element_type.is_signless:
        return f"i{element_type.width}"
    return None


def numpy_dtype(element_type) -> np.dtype:
    """The numpy dtype that holds `element_type`'s bits (bf16 through ml_dtypes);
    `element_type` is an MLIR type or its name."""
    text = element_name(element_type)
    if text == "bf16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    table = {"f32": np.float32, "f16": np.float16, "f64": np.float64, "i32": np.int32,
             "i64": np.int64, "i8": np.int8, "i16": np.int16}
    if text not in table:
        raise ConstantError(f"element type {element_type} is not supported for constants")
    return np.dtype(table[text])


# ----------------------------------------------------------------- dense<...>
class _MlirAttribute(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_void_p)]


def _c_api():
    """The bindings' C API library with the signatures used here."""
    lib = c_api_library()
    if not hasattr(_c_api, "ready"):
        lib.mlirDenseElementsAttrGetRawData.argtypes = [_MlirAttribute]
        lib.mlirDenseElementsAttrGetRawData.restype = ctypes.c_void_p
        lib.mlirAttributeIsADenseResourceElements.argtypes = [_MlirAttribute]
        lib.mlirAttributeIsADenseResourceElements.restype = ctypes.c_bool
        _c_api.ready = True
    return lib


def _pointer(attr) -> _MlirAttribute:
    return _MlirAttribute(c_api_pointer(attr._CAPIPtr))


def is_dense_resource(attr) -> bool:
    """`dense_resource<...>`? (The bindings cannot downcast it: "DenseResourceElementsAttr
    has no typeid" in MLIR 22, so the C API's isa is asked.)"""
    return bool(_c_api().mlirAttributeIsADenseResourceElements(_pointer(attr)))


def _dense_storage(attr) -> np.ndarray:
    """The storage of a `DenseElementsAttr` (every element, or one for a splat) as a flat,
    read-only array over the attribute's own memory: no copy. Attributes are uniqued in
    their context and never freed before it; the array holds the attribute, which holds
    the context, so the memory outlives every view of it."""
    dense = ir.DenseElementsAttr(attr)
    shaped = ir.ShapedType(dense.type)
    if element_name(shaped.element_type) == "i1":
        raise ConstantError("i1 constants are bit-packed and not supported")
    dtype = numpy_dtype(shaped.element_type)
    count = 1 if dense.is_splat else int(np.prod(shaped.shape, dtype=np.int64))
    if count == 0:
        return np.empty(0, dtype)
    address = _c_api().mlirDenseElementsAttrGetRawData(_pointer(dense))
    memory = (ctypes.c_char * (count * dtype.itemsize)).from_address(address)
    memory.owner = dense
    view = np.frombuffer(memory, dtype=dtype)
    view.flags.writeable = False
    return view


def raw_dense_bytes(attr) -> bytes:
    """The storage of a `DenseElementsAttr`: every element, or one for a splat."""
    return _dense_storage(attr).tobytes()


# --------------------------------------------------------- dense_resource<...>
class _Reader:
    """MLIR bytecode's EncodingReader: bytes, prefix varints, sections."""

    def __init__(self, data: bytes, start: int = 0, end: int | None = None):
        self.data, self.pos, self.end = data, start, len(data) if end is None else end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise ConstantError("truncated bytecode")
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self) -> int:
        """PrefixVarInt: the trailing zeros of the first byte count the extra bytes."""
        first = self.data[self.pos] if self.pos < self.end else -1
        if first < 0:
            raise ConstantError("truncated bytecode")
        width = 9 if first == 0 else (first & -first).bit_length()
        raw = self.take(width)
        return int.from_bytes(raw[1:], "little") if first == 0 else \
            int.from_bytes(raw, "little") >> width

    def take(self, count: int) -> bytes:
        if self.pos + count > self.end:
            raise ConstantError("truncated bytecode")
        self.pos += count
        return self.data[self.pos - count:self.pos]

    def align(self, alignment: int) -> None:
        # Offsets are aligned from the start of the buffer (the writer aligns the
        # section starts to the largest alignment inside them).
        if alignment > 1:
            self.pos += -self.pos % alignment

    def section(self) -> tuple[int, "_Reader"]:
        code = self.byte()
        length = self.varint()
        if code & 0x80:
            self.align(self.varint())
        start = self.pos
        self.take(length)
        return code & 0x7F, _Reader(self.data, start, start + length)


_STRINGS, _DIALECTS, _RESOURCES, _RESOURCE_OFFSETS = 0, 1, 5, 6
_BLOB_KIND = 0  # AsmResourceEntryKind::Blob


def _bytecode_blobs(data: bytes) -> dict[tuple[str, str], bytes]:
    """{(dialect, key): blob bytes} of the bytecode's dialect resources."""
    top = _Reader(data)
    if top.take(4) != b"ML\xefR":
        raise ConstantError("not MLIR bytecode")
    version = top.varint()
    while top.byte() != 0:  # producer string
        pass
    sections = {}
    while top.pos < top.end:
        code, reader = top.section()
        sections[code] = reader
    if _RESOURCE_OFFSETS not in sections:
        return {}
    strings_reader = sections[_STRINGS]
    strings = [b""] * strings_reader.varint()
    end = strings_reader.end
    for i in reversed(range(len(strings))):  # sizes (with the NUL) are stored last-first
        size = strings_reader.varint()
        strings[i] = strings_reader.data[end - size:end - 1]
        end -= size
    dialect_reader = sections[_DIALECTS]
    dialects = []
    for _ in range(dialect_reader.varint()):
        if version < 1:  # before kDialectVersioning: a plain string index
            dialects.append(strings[dialect_reader.varint()].decode())
            continue
        flagged = dialect_reader.varint()
        dialects.append(strings[flagged >> 1].decode())
        if flagged & 1:  # a nested version section
            dialect_reader.section()
    offsets, blobs_reader = sections[_RESOURCE_OFFSETS], sections.get(_RESOURCES)
    found: dict[tuple[str, str], bytes] = {}

    def group(owner: str) -> None:
        for _ in range(offsets.varint()):
            key = strings[offsets.varint()].decode()
            size = offsets.varint()
            kind = offsets.byte()
            if blobs_reader is None:
                continue
            entry_start = blobs_reader.pos
            blobs_reader.take(size)
            if kind != _BLOB_KIND or size == 0:
                continue
            entry = _Reader(blobs_reader.data, entry_start, entry_start + size)
            alignment = entry.varint()
            length = entry.varint()
            entry.align(alignment)
            found[(owner, key)] = entry.take(length)

    for _ in range(offsets.varint()):  # external resource groups
        group(strings[offsets.varint()].decode())
    while offsets.pos < offsets.end:  # dialect resource groups
        group(dialects[offsets.varint()])
    return found


class ResourceBlobs:
    """The `dense_resource` blobs of one module, read once from its bytecode on first use."""

    def __init__(self, module_op):
        self._module_op = module_op
        self._blobs: dict[str, bytes] | None = None

    def __getitem__(self, key: str) -> bytes:
        if self._blobs is None:
            stream = io.BytesIO()
            self._module_op.write_bytecode(stream)
            self._blobs = {k: v for (owner, k), v in _bytecode_blobs(stream.getvalue()).items()
                           if owner == "builtin"}
        if key not in self._blobs:
            raise ConstantError(f"dense_resource blob '{key}' has no data in the module")
        return self._blobs[key]


# ----------------------------------------------------------------- numpy side
def elements_to_numpy(attr, resources: ResourceBlobs | None = None, *,
                      copy: bool = True) -> np.ndarray:
    """A dense or dense_resource elements attribute as numpy, in its own element type.

    `copy=False`: a read-only view of the values where they are stored (a `dense`
    attribute's own memory in its context, a `dense_resource` blob of `resources`), for
    a reader that keeps them as long as the IR: no second copy of a network's weights.
    A splat is always expanded into a new array."""
    shaped = ir.ShapedType(attr.type)
    shape = tuple(shaped.shape)
    dtype = numpy_dtype(shaped.element_type)
    count = int(np.prod(shape, dtype=np.int64))
    if is_dense_resource(attr):
        key = _resource_key(attr)
        if resources is None:
            raise ConstantError(f"dense_resource blob '{key}' needs the module's resources")
        data = resources[key]
        if len(data) != count * dtype.itemsize:
            raise ConstantError(f"dense_resource blob holds {len(data)} bytes, {shaped} needs "
                                f"{count * dtype.itemsize}")
        values = np.frombuffer(data, dtype=dtype).reshape(shape)
        return values.copy() if copy else values
    if not isinstance(attr, ir.DenseElementsAttr):
        raise ConstantError(f"expected a dense or dense_resource elements attribute, got {attr.type}")
    values = _dense_storage(attr)
    if ir.DenseElementsAttr(attr).is_splat:
        return np.full(shape, values[0], dtype=dtype)
    values = values.reshape(shape)
    return values.copy() if copy else values


def _resource_key(resource) -> str:
    """The blob key of a dense_resource attribute (its handle's name)."""
    # The bindings expose no accessor for the handle's key. This is the one place a
    # spelling is read: a name, not a value. The key is a bare identifier or a quoted
    # string (AsmPrinter::printResourceHandle), printed right after `dense_resource<`.
    text = str(resource)[len("dense_resource<"):]
    if not text.startswith('"'):
        return text[:text.index(">")]
    key, escaped = [], False
    for ch in text[1:]:
        if escaped or ch not in '"\\':
            key.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            break
    return "".join(key)


def dense_to_numpy(attr, resources: ResourceBlobs | None = None, *, copy: bool = True) -> np.ndarray:
    """Float constants as float32 (exact for bf16, f16 and f32); one conversion from the
    attribute's storage. `copy=False`: f32 values are the read-only view of
    `elements_to_numpy(..., copy=False)`, other types a new array as always."""
    values = elements_to_numpy(attr, resources, copy=False)
    if values.dtype == np.float64:
        raise ConstantError("f64 constants are not supported (float32 would round them)")
    return values.astype(np.float32, copy=copy)


def numpy_to_dense(values, element_type: str = "bf16"):
    """A float array as a dense elements attribute of `tensor<shape x element_type>` (needs a context).

    float32 values are rounded to `element_type` (round to nearest even) and stored from raw bytes.
    """
    dtype = numpy_dtype(element_type)
    array = np.ascontiguousarray(np.asarray(values, dtype=np.float32).astype(dtype))
    mlir_type = FLOAT_ELEMENT_TYPES[element_type].get()
    tensor_type = ir.RankedTensorType.get(list(array.shape), mlir_type)
    raw = array.view(np.uint16) if element_type == "bf16" else array
    return ir.DenseElementsAttr.get(raw, type=tensor_type)
