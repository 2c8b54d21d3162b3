"""SVG is active content: parse it with an XML parser that refuses entity tricks, keep the
drawing, drop everything that runs code or fetches another resource, and write it out again.

What is refused (the file fails): bytes that do not parse as XML, a root that is not ``<svg>``,
a DOCTYPE with an internal subset, any entity declaration or external entity reference, more
than ``MAX_SVG_DEPTH`` levels of nesting or ``MAX_SVG_ELEMENTS`` elements. A DOCTYPE that only
names a public/system identifier (what older Illustrator and Inkscape exports carry) is read
without fetching anything and dropped from the output.

What is removed (the rest is kept as it was): elements outside the SVG namespace (an XHTML
``<script>`` or ``<iframe>`` runs inside SVG too) and their content; ``<script>``,
``<foreignObject>``, ``<iframe>``, ``<embed>``, ``<object>``, ``<audio>``, ``<video>``,
``<handler>``; animation elements (``<animate*>``, ``<set>``) that change a reference, a style
or an event handler; ``<style>`` sheets that import or point outside the document; every
``on*`` attribute; ``href``/``xlink:href`` to anything but a fragment (``#id``) or a base64
PNG/JPEG/GIF/WebP ``data:`` image (``<use>``: fragments only); attributes holding a
``javascript:``/``vbscript:`` URL, a ``url(...)`` that is not a fragment or such an image, or a
CSS escape; attributes in other namespaces (``xml:space``/``xml:lang`` and XLink's stay);
comments and processing instructions (``<?xml-stylesheet?>`` loads a stylesheet).

No AWS here: bytes in, bytes out.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import DefusedXMLParser

from medialib.domain.failures import FailureCode
from medialib.imaging.rejection import Rejected

MB = 1024 * 1024
MAX_SVG_BYTES = 5 * MB
MAX_SVG_DEPTH = 128
MAX_SVG_ELEMENTS = 100_000
# Dimensions beyond this are not a drawing's size but a trick; they are left unknown.
MAX_SVG_DIMENSION = 1_000_000

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Compared lower-cased: SVG names are case-sensitive, but a browser's HTML parser is not, and
# nothing legitimate differs from these only by case.
_REMOVED_ELEMENTS = frozenset(
    {
        "script", "foreignobject", "iframe", "frame", "frameset", "embed", "object", "applet",
        "audio", "video", "handler", "listener", "base", "link", "meta",
    }
)  # fmt: skip
_ANIMATION_ELEMENTS = frozenset({"animate", "animatemotion", "animatetransform", "animatecolor", "set"})
# What an animation must not change: a reference, where references resolve, or a style.
_GUARDED_ANIMATION_TARGETS = frozenset({"href", "src", "base", "style"})
_KEPT_XML_ATTRIBUTES = frozenset({"space", "lang"})
# Seen after removing whitespace and control characters (browsers skip them inside URLs).
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:")
_CSS_FORBIDDEN = ("@import", "expression(", "-moz-binding", "behavior:", "image-set(", "image(", "src(")
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[a-z0-9+/=\s]*\Z", re.IGNORECASE)
_DATA_IMAGE_PREFIX = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,", re.IGNORECASE)
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]+")
_NUMBER_PX = re.compile(r"\s*([+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?:px)?\s*\Z")
_VIEWBOX_SEPARATOR = re.compile(r"[\s,]+")
_XML_SPACE = " \t\r\n"


class SvgRejected(Rejected):
    """The file cannot be served, even sanitised; ``code`` is the item's failure code."""

    def __init__(self, code: FailureCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class SanitisedSvg:
    data: bytes  # UTF-8, no declaration, DOCTYPE, comments or processing instructions
    width: int | None
    height: int | None
    removed: int  # elements and attributes removed, for logs


def sanitise_svg(
    data: bytes,
    *,
    max_bytes: int = MAX_SVG_BYTES,
    max_depth: int = MAX_SVG_DEPTH,
    max_elements: int = MAX_SVG_ELEMENTS,
) -> SanitisedSvg:
    """The drawing without its active content, or ``SvgRejected`` (``too_large``,
    ``unsafe_svg``, ``corrupt``). Sanitising its own output changes nothing."""
    if len(data) > max_bytes:
        raise SvgRejected("too_large", f"SVG files are parsed up to {max_bytes} bytes")
    root = _parse(data, max_depth=max_depth, max_elements=max_elements)
    if _svg_name(root.tag) != "svg":
        raise SvgRejected("corrupt", "The root element is not an SVG <svg>")
    cleaner = _Cleaner()
    cleaner.clean(root)
    width, height = _dimensions(root)
    return SanitisedSvg(_serialise(root, cleaner.uses_xlink), width, height, cleaner.removed)


# Parsing ----------------------------------------------------------------------------------


class _TooComplex(Exception):
    pass


class _BoundedTreeBuilder(ET.TreeBuilder):
    """Stops the parse as soon as the tree gets too deep or too big (before it is built)."""

    def __init__(self, max_depth: int, max_elements: int) -> None:
        super().__init__()
        self._max_depth = max_depth
        self._max_elements = max_elements
        self._depth = 0
        self._elements = 0

    def start(self, tag: Any, attrs: Any) -> ET.Element:
        self._depth += 1
        self._elements += 1
        if self._depth > self._max_depth:
            raise _TooComplex(f"nested deeper than {self._max_depth} elements")
        if self._elements > self._max_elements:
            raise _TooComplex(f"more than {self._max_elements} elements")
        return super().start(tag, attrs)

    def end(self, tag: Any) -> ET.Element:
        self._depth -= 1
        return super().end(tag)


class _Parser(DefusedXMLParser):
    """defusedxml's parser (no entity declarations, no external references) that also refuses
    a DOCTYPE's internal subset, where declarations live, but lets a bare DOCTYPE through."""

    def defused_start_doctype_decl(
        self, name: str, sysid: str | None, pubid: str | None, has_internal_subset: int
    ) -> None:
        if has_internal_subset:
            raise DTDForbidden(name, sysid, pubid)


def _parse(data: bytes, *, max_depth: int, max_elements: int) -> ET.Element:
    parser = _Parser(
        target=_BoundedTreeBuilder(max_depth, max_elements),
        forbid_dtd=True,  # routes every DOCTYPE through defused_start_doctype_decl above
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as refused:
        raise SvgRejected("unsafe_svg", "The SVG declares a DTD subset or entities") from refused
    except _TooComplex as refused:
        raise SvgRejected("unsafe_svg", f"The SVG is {refused}") from refused
    except (ET.ParseError, expat.ExpatError, UnicodeError, ValueError) as broken:
        raise SvgRejected("corrupt", "The file is not well-formed XML") from broken
    if not isinstance(root, ET.Element):
        raise SvgRejected("corrupt", "The file holds no XML element")
    return root


def _split(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return None, name


def _svg_name(tag: object) -> str | None:
    """The local name of an SVG element (unqualified names are taken as SVG), else None."""
    if not isinstance(tag, str):
        return None  # comments and processing instructions, should a parser keep them
    namespace, local = _split(tag)
    return local if namespace in (None, SVG_NS) else None


# Cleaning ---------------------------------------------------------------------------------


class _Cleaner:
    def __init__(self) -> None:
        self.removed = 0
        self.uses_xlink = False

    def clean(self, element: ET.Element) -> None:
        """Clean one element in place (its name already accepted), then its children."""
        local = _svg_name(element.tag) or ""
        element.tag = local  # written in the default (SVG) namespace
        self._clean_attributes(element, local)
        for child in list(element):
            if self._keeps(child):
                self.clean(child)
            else:
                _remove_keeping_tail(element, child)
                self.removed += 1

    def _keeps(self, child: ET.Element) -> bool:
        local = _svg_name(child.tag)
        if local is None or local.lower() in _REMOVED_ELEMENTS:
            return False
        if local.lower() == "style" and not _safe_css("".join(child.itertext())):
            return False  # a browser reads the sheet from all its text
        if local.lower() in _ANIMATION_ELEMENTS:
            target = _split(child.get("attributeName", ""))[1].rpartition(":")[2].strip().lower()
            return not (target in _GUARDED_ANIMATION_TARGETS or target.startswith("on"))
        return True

    def _clean_attributes(self, element: ET.Element, local_tag: str) -> None:
        for name, value in list(element.attrib.items()):
            namespace, local = _split(name)
            if _keeps_attribute(namespace, local, value, local_tag):
                self.uses_xlink = self.uses_xlink or namespace == XLINK_NS
            else:
                del element.attrib[name]
                self.removed += 1


def _keeps_attribute(namespace: str | None, local: str, value: str, element: str) -> bool:
    if namespace == XML_NS:
        return local in _KEPT_XML_ATTRIBUTES
    if namespace not in (None, XLINK_NS):
        return False  # editor metadata (inkscape:, sodipodi:) and anything a browser may act on
    lowered = local.lower()
    if lowered.startswith("on"):
        return False
    squeezed = _IGNORED_IN_URLS.sub("", value).lower()
    if any(scheme in squeezed for scheme in _SCRIPT_SCHEMES):
        return False
    if lowered in ("href", "src"):
        return _safe_reference(value, fragment_only=element.lower() == "use")
    if namespace is None and lowered == "style":
        return _safe_css(value)
    if "\\" in value and "(" in value:
        return False  # a CSS escape can spell url( in a presentation attribute
    return "url(" not in squeezed or _local_urls_only(squeezed)


def _safe_reference(value: str, *, fragment_only: bool) -> bool:
    reference = value.strip(_XML_SPACE)
    if reference.startswith("#"):
        return True
    return not fragment_only and _DATA_IMAGE.match(reference) is not None


def _safe_css(css: str) -> bool:
    """CSS (a ``style`` attribute or sheet) that fetches nothing and runs nothing."""
    if "\\" in css:
        return False  # escapes can spell url( or @import past a text match
    squeezed = _IGNORED_IN_URLS.sub("", css).lower()
    if any(scheme in squeezed for scheme in _SCRIPT_SCHEMES):
        return False
    if any(token in squeezed for token in _CSS_FORBIDDEN):
        return False
    return _local_urls_only(squeezed)


def _local_urls_only(squeezed: str) -> bool:
    """Every ``url(`` in whitespace-free, lower-cased text points at a fragment or a raster
    ``data:`` image."""
    start = squeezed.find("url(")
    while start >= 0:
        target = squeezed[start + 4 :].lstrip("'\"")
        if not (target.startswith("#") or _DATA_IMAGE_PREFIX.match(target)):
            return False
        start = squeezed.find("url(", start + 4)
    return True


def _remove_keeping_tail(parent: ET.Element, child: ET.Element) -> None:
    """Remove ``child`` and its content; the text after it stays where it was."""
    if child.tail:
        index = list(parent).index(child)
        if index > 0:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "") + child.tail
        else:
            parent.text = (parent.text or "") + child.tail
    parent.remove(child)


# Dimensions -------------------------------------------------------------------------------


def _dimensions(root: ET.Element) -> tuple[int | None, int | None]:
    """Width and height in px from the root's ``width``/``height`` (plain numbers or px), else
    from its ``viewBox`` (keeping its aspect when one side is given)."""
    width, height = _px(root.get("width")), _px(root.get("height"))
    box = _viewbox(root.get("viewBox"))
    if box is not None:
        box_width, box_height = box
        if width is None and height is None:
            width, height = box_width, box_height
        elif width is None and height is not None:
            width = height * box_width / box_height
        elif height is None and width is not None:
            height = width * box_height / box_width
    return _whole(width), _whole(height)


def _px(value: str | None) -> float | None:
    match = _NUMBER_PX.match(value or "")
    return float(match.group(1)) if match else None


def _viewbox(value: str | None) -> tuple[float, float] | None:
    parts = _VIEWBOX_SEPARATOR.split((value or "").strip())
    if len(parts) != 4:
        return None
    try:
        _, _, width, height = (float(part) for part in parts)
    except ValueError:
        return None
    if not (0 < width <= MAX_SVG_DIMENSION and 0 < height <= MAX_SVG_DIMENSION):
        return None
    return width, height


def _whole(value: float | None) -> int | None:
    if value is None or not 0 < value <= MAX_SVG_DIMENSION:
        return None
    return max(1, round(value))


# Writing ----------------------------------------------------------------------------------


def _serialise(root: ET.Element, uses_xlink: bool) -> bytes:
    declarations = [("xmlns", SVG_NS)]
    if uses_xlink:
        declarations.append(("xmlns:xlink", XLINK_NS))
    parts: list[str] = []
    _write(root, parts, declarations)
    return "".join(parts).encode("utf-8")


_PREFIXES = {None: "", XLINK_NS: "xlink:", XML_NS: "xml:"}


def _write(element: ET.Element, parts: list[str], declarations: list[tuple[str, str]]) -> None:
    parts.append("<" + element.tag)
    for name, value in declarations:
        parts.append(f' {name}="{_escape_attribute(value)}"')
    for name, value in element.attrib.items():
        namespace, local = _split(name)
        parts.append(f' {_PREFIXES[namespace]}{local}="{_escape_attribute(value)}"')
    if not len(element) and not element.text:
        parts.append("/>")
    else:
        parts.append(">")
        if element.text:
            parts.append(_escape_text(element.text))
        for child in element:
            _write(child, parts, [])
        parts.append(f"</{element.tag}>")
    if element.tail:
        parts.append(_escape_text(element.tail))


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attribute(value: str) -> str:
    return _escape_text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
