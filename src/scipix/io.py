"""Image input: decode and validate bytes, paths, PIL images and numpy arrays.

The format is sniffed from the bytes, never from a file name. Limits on bytes and on pixel
counts reject decompression bombs before any pixel is decoded.
"""

from __future__ import annotations

import io as _io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from scipix.errors import ImageError, ImageTooLarge

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
MIN_SIDE = 2

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)

SUPPORTED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")

ImageSource = bytes | bytearray | memoryview | str | Path | Image.Image | NDArray[np.generic]


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """A validated image as 8-bit grayscale (``gray``) plus RGB when it has colour."""

    gray: NDArray[np.uint8]
    format: str
    width: int
    height: int
    rgb: NDArray[np.uint8] | None = None


def sniff_format(data: bytes) -> str | None:
    """Return the image format named by the leading bytes, or None if it is not one we take."""
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def load_image(
    source: ImageSource,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> DecodedImage:
    """Decode and validate an image from bytes, a path, a PIL image or a numpy array."""
    if isinstance(source, Image.Image):
        return _from_pil(source, "PIL", max_pixels)
    if isinstance(source, np.ndarray):
        return _from_array(source, max_pixels)
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"no such file: {path}")
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise ImageTooLarge(f"{path.name}: {size} bytes is over the limit of {max_bytes}")
            source = path.read_bytes()
        except OSError as exc:
            raise ImageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(source, bytes | bytearray | memoryview):
        raise ImageError(f"unsupported image source type: {type(source).__name__}")
    data = bytes(source)
    return decode_bytes(data, max_bytes=max_bytes, max_pixels=max_pixels)


def decode_bytes(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS
) -> DecodedImage:
    if not data:
        raise ImageError("the image is empty (0 bytes)")
    if len(data) > max_bytes:
        raise ImageTooLarge(f"the image is {len(data)} bytes, over the limit of {max_bytes}")
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageError("not a supported image: expected one of " + ", ".join(SUPPORTED_FORMATS))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(_io.BytesIO(data))
            width, height = img.size
            if width * height > max_pixels:
                raise ImageTooLarge(
                    f"the image is {width}x{height} pixels, over the limit of {max_pixels}"
                )
            img.load()
    except ImageTooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"decompression bomb refused: {exc}") from None
    except Exception as exc:  # a malformed file can make any decoder raise almost anything
        raise ImageError(f"cannot decode {fmt} image: {exc or type(exc).__name__}") from None
    return _from_pil(img, fmt, max_pixels)


def _from_pil(img: Image.Image, fmt: str, max_pixels: int) -> DecodedImage:
    width, height = img.size
    if width * height > max_pixels:
        raise ImageTooLarge(f"the image is {width}x{height} pixels, over the limit of {max_pixels}")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageError(f"the image is {width}x{height} pixels, too small to hold a formula")
    # The first frame of an animation. (n_frames would walk, and decode, every frame.)
    if getattr(img, "is_animated", False) and img.tell() != 0:
        img.seek(0)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        gray = scaled.astype(np.uint8)
        return DecodedImage(gray=gray, format=fmt, width=width, height=height)
    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    gray = np.asarray(img.convert("L"), dtype=np.uint8)
    colour = bool(np.any(rgb[..., 0] != rgb[..., 1]) or np.any(rgb[..., 1] != rgb[..., 2]))
    return DecodedImage(
        gray=np.ascontiguousarray(gray),
        format=fmt,
        width=width,
        height=height,
        rgb=np.ascontiguousarray(rgb) if colour else None,
    )


def _from_array(arr: NDArray[np.generic], max_pixels: int) -> DecodedImage:
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        a = arr[..., :3]
    elif arr.ndim == 2:
        a = arr
    else:
        raise ImageError(f"an image array must be HxW or HxWx3/4, not shape {arr.shape}")
    if a.dtype != np.uint8:
        f = a.astype(np.float64)
        if f.size and float(f.max()) <= 1.0:
            f = f * 255.0
        a = np.clip(f, 0, 255).astype(np.uint8)
    mode = "L" if a.ndim == 2 else "RGB"
    return _from_pil(Image.fromarray(np.ascontiguousarray(a), mode=mode), "ARRAY", max_pixels)


__all__ = ["DecodedImage", "ImageSource", "decode_bytes", "load_image", "sniff_format"]
