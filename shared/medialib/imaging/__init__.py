"""Pure image handling: type sniffing from magic bytes, guarded decoding, WebP variants, placeholders.

Nothing here touches AWS or HTTP; `sniff` stays importable without Pillow.
"""
