"""Image input: every kind of bad input, with real bytes; every accepted format."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile

from scipix.errors import ImageError, ImageTooLarge
from scipix.io import DecodedImage, decode_bytes, load_image, sniff_format


def formula_image(width: int = 120, height: int = 48, mode: str = "RGB") -> Image.Image:
    """A white image with some black strokes (enough structure for every codec)."""
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.line((10, height // 2, width - 10, height // 2), fill="black", width=3)
    draw.text((12, 4), "x=2", fill="black")
    return img.convert(mode)


def encode(img: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_header_bomb(width: int, height: int) -> bytes:
    """A valid-looking PNG that claims width x height pixels but carries a few bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any pixel decoding fail loudly, to prove a rejection happens before it."""

    def boom(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", boom)


# --- accepted formats --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [
        ("PNG", "RGB"),
        ("PNG", "L"),
        ("PNG", "RGBA"),
        ("PNG", "P"),
        ("JPEG", "RGB"),
        ("JPEG", "L"),
        ("WEBP", "RGB"),
        ("BMP", "RGB"),
        ("GIF", "P"),
        ("TIFF", "RGB"),
        ("TIFF", "L"),
    ],
)
def test_supported_formats_decode(fmt: str, mode: str) -> None:
    data = encode(formula_image(mode=mode), fmt)
    assert sniff_format(data) == fmt
    image = load_image(data)
    assert isinstance(image, DecodedImage)
    assert image.format == fmt
    assert (image.width, image.height) == (120, 48)
    assert image.gray.shape == (48, 120)
    assert image.gray.dtype == np.uint8
    # Ink is dark, paper is light, whatever the codec did.
    assert image.gray.min() < 100
    assert image.gray.max() > 200


def test_big_endian_tiff_is_sniffed() -> None:
    assert sniff_format(b"MM\x00*" + b"\x00" * 8) == "TIFF"


def test_format_is_sniffed_from_bytes_not_name(tmp_path: Path) -> None:
    png_named_jpg = tmp_path / "formula.jpg"
    png_named_jpg.write_bytes(encode(formula_image(), "PNG"))
    assert load_image(png_named_jpg).format == "PNG"

    jpeg_named_png = tmp_path / "formula.png"
    jpeg_named_png.write_bytes(encode(formula_image(), "JPEG"))
    assert load_image(jpeg_named_png).format == "JPEG"

    no_suffix = tmp_path / "formula"
    no_suffix.write_bytes(encode(formula_image(), "WEBP"))
    assert load_image(str(no_suffix)).format == "WEBP"


def test_transparent_png_is_composited_on_white() -> None:
    img = Image.new("RGBA", (40, 20), (0, 0, 0, 0))  # fully transparent black
    ImageDraw.Draw(img).rectangle((5, 5, 15, 15), fill=(0, 0, 0, 255))
    image = load_image(encode(img, "PNG"))
    assert image.gray[0, 0] == 255
    assert image.gray[10, 10] == 0


def test_sixteen_bit_png_is_scaled_to_eight_bits() -> None:
    arr = np.zeros((20, 30), dtype=np.uint16)
    arr[:, 15:] = 60000
    img = Image.fromarray(arr)
    image = load_image(encode(img, "PNG"))
    assert image.gray.dtype == np.uint8
    assert image.gray[0, 0] == 0
    assert image.gray[0, 29] == 255


def test_animated_gif_uses_first_frame() -> None:
    first = Image.new("L", (30, 30), 255)
    second = Image.new("L", (30, 30), 0)
    buf = io.BytesIO()
    first.save(buf, format="GIF", save_all=True, append_images=[second])
    image = load_image(buf.getvalue())
    assert image.gray.mean() > 200


def test_colour_is_kept_only_when_present() -> None:
    gray = load_image(encode(formula_image(), "PNG"))
    assert gray.rgb is None
    red = Image.new("RGB", (20, 20), (255, 0, 0))
    coloured = load_image(encode(red, "PNG"))
    assert coloured.rgb is not None
    assert coloured.rgb.shape == (20, 20, 3)


def test_pil_and_numpy_inputs() -> None:
    img = formula_image()
    assert load_image(img).format == "PIL"
    arr = np.asarray(img.convert("L"))
    from_array = load_image(arr)
    assert from_array.format == "ARRAY"
    assert np.array_equal(from_array.gray, arr)
    floats = arr.astype(np.float32) / 255.0
    assert np.array_equal(load_image(floats).gray, arr)
    rgba = np.dstack([np.asarray(img), np.full((48, 120), 255, np.uint8)])
    assert load_image(rgba).gray.shape == (48, 120)


def test_bytearray_and_memoryview_inputs() -> None:
    data = encode(formula_image(), "PNG")
    assert load_image(bytearray(data)).width == 120
    assert load_image(memoryview(data)).width == 120


# --- bad inputs --------------------------------------------------------------------------------


def test_empty_bytes_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="empty"):
        load_image(b"")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        load_image(empty)


def test_truncated_png(tmp_path: Path) -> None:
    data = encode(formula_image(400, 200), "PNG")
    path = tmp_path / "truncated.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="cannot decode PNG") as info:
        load_image(path)
    assert not isinstance(info.value, ImageTooLarge)


def test_truncated_jpeg() -> None:
    data = encode(formula_image(400, 200), "JPEG")
    with pytest.raises(ImageError, match="cannot decode JPEG"):
        load_image(data[: len(data) // 2])


def test_png_signature_only() -> None:
    with pytest.raises(ImageError):
        load_image(b"\x89PNG\r\n\x1a\n")


def test_zip_renamed_png(tmp_path: Path) -> None:
    path = tmp_path / "formula.png"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("formula.tex", "x^2")
    with pytest.raises(ImageError, match="not a supported image"):
        load_image(path)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"hello, this is text\n",
        bytes(range(256)) * 4,
    ],
    ids=["pdf", "svg", "text", "noise"],
)
def test_non_images_are_rejected(data: bytes) -> None:
    with pytest.raises(ImageError, match="not a supported image"):
        load_image(data)


def test_bmp_magic_with_garbage() -> None:
    with pytest.raises(ImageError, match="cannot decode BMP"):
        load_image(b"BM" + b"\xff" * 64)


def test_one_pixel_image() -> None:
    data = encode(Image.new("L", (1, 1), 0), "PNG")
    with pytest.raises(ImageError, match="too small"):
        load_image(data)


def test_header_bomb_20000_square_rejected_before_decoding(no_decoding: None) -> None:
    data = png_header_bomb(20000, 20000)
    assert len(data) < 200
    with pytest.raises(ImageTooLarge) as info:
        load_image(data)
    assert info.value.error_id == "image_max_size"
    assert info.value.http_status == 413


def test_pixel_limit_rejected_before_decoding(no_decoding: None) -> None:
    # 7000 x 7000 = 49 M pixels: under Pillow's own bomb limit, over ours (40 M).
    with pytest.raises(ImageTooLarge, match="7000x7000"):
        load_image(png_header_bomb(7000, 7000))
    with pytest.raises(ImageTooLarge):
        load_image(png_header_bomb(100, 100), max_pixels=5000)


def test_byte_limit(tmp_path: Path) -> None:
    data = encode(formula_image(), "PNG")
    with pytest.raises(ImageTooLarge, match="over the limit"):
        load_image(data, max_bytes=len(data) - 1)
    path = tmp_path / "big.png"
    path.write_bytes(data)
    with pytest.raises(ImageTooLarge, match="over the limit"):
        load_image(path, max_bytes=100)
    assert decode_bytes(data, max_bytes=len(data)).width == 120


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "absent.png")
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path)


def test_bad_array_shapes_and_source_types() -> None:
    with pytest.raises(ImageError, match="shape"):
        load_image(np.zeros((4, 4, 2), dtype=np.uint8))
    with pytest.raises(ImageError, match="shape"):
        load_image(np.zeros(16, dtype=np.uint8))
    with pytest.raises(ImageError, match="unsupported image source"):
        load_image(12345)  # type: ignore[arg-type]
