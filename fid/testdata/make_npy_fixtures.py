#!/usr/bin/python3
"""Generate the .npy fixtures and the FuzzReadNpy seed corpus for package fid.

Run with Debian's NumPy (apt-get install -y python3-numpy):

    cd fid/testdata && /usr/bin/python3 make_npy_fixtures.py

Float fixtures hold value(c) = 0.25*c - 1 at row-major (C-order) flat index
c, whatever their storage order, so the Go tests can check every element;
uint8 fixtures hold c % 256.
"""
import io
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def pattern(shape, dtype):
    c = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    if np.dtype(dtype) == np.uint8:
        return (c % 256).astype(np.uint8)
    return (0.25 * c - 1).astype(dtype)


def images(n, dtype):
    """n×28×28 images; uint8 = c % 256, float = (c % 256)/127.5 - 1."""
    u8 = pattern((n, 28, 28), np.uint8)
    if dtype == np.uint8:
        return u8
    return (u8.astype(np.float64) / 127.5 - 1).astype(dtype)


FIXTURES = {
    "f32_2d.npy": pattern((5, 3), np.float32),
    "f64_2d.npy": pattern((4, 6), np.float64),
    "u8_2d.npy": pattern((3, 7), np.uint8),
    "f32_3d.npy": pattern((2, 3, 4), np.float32),
    "f64_fortran_2d.npy": np.asfortranarray(pattern((3, 5), np.float64)),
    "f32_fortran_3d.npy": np.asfortranarray(pattern((2, 3, 4), np.float32)),
    "f32_bigendian.npy": pattern((3, 2), np.float32).astype(">f4"),
    "f32_images.npy": images(3, np.float32),
    "u8_images.npy": images(2, np.uint8),
    "invalid_1d.npy": pattern((5,), np.float32),
    "invalid_0d.npy": np.array(1.5, dtype=np.float32),
    "invalid_int64.npy": np.arange(6, dtype=np.int64).reshape(2, 3),
    "invalid_empty.npy": np.zeros((0, 3), dtype=np.float32),
}


def go_bytes_literal(b):
    out = []
    for x in b:
        ch = chr(x)
        if 0x20 <= x < 0x7F and ch not in '"\\':
            out.append(ch)
        else:
            out.append("\\x%02x" % x)
    return '[]byte("' + "".join(out) + '")'


def write_seed(name, data):
    path = os.path.join(HERE, "fuzz", "FuzzReadNpy", name)
    with open(path, "w") as f:
        f.write("go test fuzz v1\n" + go_bytes_literal(data) + "\n")


def npy_bytes(arr, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, version=version, allow_pickle=False)
    return buf.getvalue()


def raw_npy(header, data=b"", version=1):
    h = header.encode() + b"\n"
    if version == 1:
        pre = b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little")
    else:
        pre = b"\x93NUMPY" + bytes([version, 0]) + len(h).to_bytes(4, "little")
    return pre + h + data


def main():
    os.makedirs(os.path.join(HERE, "fuzz", "FuzzReadNpy"), exist_ok=True)
    for name, arr in FIXTURES.items():
        np.save(os.path.join(HERE, name), arr, allow_pickle=False)
    with open(os.path.join(HERE, "f64_v2.npy"), "wb") as f:
        f.write(npy_bytes(pattern((2, 3), np.float64), version=(2, 0)))
    full = npy_bytes(pattern((4, 3), np.float32))
    with open(os.path.join(HERE, "invalid_truncated.npy"), "wb") as f:
        f.write(full[:-5])

    small = {k: v for k, v in FIXTURES.items() if v.nbytes <= 256}
    for name, arr in small.items():
        write_seed("numpy_" + name.replace(".npy", ""), npy_bytes(arr))
    write_seed("numpy_v2", npy_bytes(pattern((2, 3), np.float64), version=(2, 0)))
    write_seed("numpy_v3", npy_bytes(pattern((2, 2), np.float32), version=(3, 0)))
    write_seed("truncated", full[:-5])
    write_seed("huge_shape", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1073741824, 8), }"))
    write_seed("overflow_shape", raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"))
    write_seed("negative_dim", raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }"))
    write_seed("bad_descr", raw_npy("{'descr': 'xxf4', 'fortran_order': False, 'shape': (2, 1), }", b"\0" * 8))
    write_seed("huge_header_len", b"\x93NUMPY\x02\x00\xff\xff\xff\x7f{")
    write_seed("no_newline", raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }")[:-1] + b" ")
    write_seed("trailing_data", npy_bytes(pattern((2, 2), np.float32)) + b"junk")
    write_seed("empty", b"")


if __name__ == "__main__":
    main()
