"""What a client shows before an image loads: a blurhash and a dominant colour."""

import warnings

import blurhash
from PIL import Image

BLURHASH_COMPONENTS = (4, 3)
_BLURHASH_SIDE = 32  # the hash keeps 4x3 frequencies; more pixels only cost time
_COLOR_SIDE = 64
_COLOR_CLUSTERS = 5
_BACKGROUND = (255, 255, 255)


def blurhash_of(image: Image.Image) -> str:
    """Blurhash of an RGB/RGBA image, transparent areas flattened onto white."""
    thumb = _flatten(_thumbnail(image, _BLURHASH_SIDE))
    x_components, y_components = BLURHASH_COMPONENTS
    with warnings.catch_warnings():
        # blurhash-python 1.2.2 reads pixels with Image.getdata, deprecated in Pillow 13.
        warnings.filterwarnings("ignore", r"Image\.Image\.getdata", DeprecationWarning)
        return blurhash.encode(thumb, x_components=x_components, y_components=y_components)


def dominant_color_of(image: Image.Image) -> str:
    """The centre of the most populous of a few colour clusters, as `#rrggbb`.

    Fully transparent pixels are ignored; an image with no visible pixel gives the background white
    that the blurhash is flattened onto.
    """
    thumb = _thumbnail(image, _COLOR_SIDE)
    rgb = thumb.convert("RGB")
    if "A" in thumb.getbands():
        alpha = thumb.getchannel("A").tobytes()
        raw = rgb.tobytes()
        visible = b"".join(raw[3 * i : 3 * i + 3] for i, a in enumerate(alpha) if a)
        if not visible:
            return "#{:02x}{:02x}{:02x}".format(*_BACKGROUND)
        rgb = Image.frombytes("RGB", (len(visible) // 3, 1), visible)
    clusters = rgb.quantize(colors=_COLOR_CLUSTERS, method=Image.Quantize.MEDIANCUT)
    _count, index = max(clusters.getcolors() or [(0, 0)])
    assert isinstance(index, int)  # a palette image counts colours by palette index
    palette = clusters.getpalette() or [0, 0, 0]
    red, green, blue = palette[3 * index : 3 * index + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def _thumbnail(image: Image.Image, side: int) -> Image.Image:
    thumb = image.copy()  # also shields the caller's image: blurhash.encode closes what it is given
    thumb.thumbnail((side, side), Image.Resampling.BOX)
    return thumb


def _flatten(image: Image.Image) -> Image.Image:
    if "A" not in image.getbands():
        return image.convert("RGB")
    background = Image.new("RGBA", image.size, (*_BACKGROUND, 255))
    background.alpha_composite(image.convert("RGBA"))
    return background.convert("RGB")
