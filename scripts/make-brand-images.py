"""Draw the integration's brand images (custom_components/ruview/brand/): the WiFi-waves icon on
RuView's teal, and the logo (the icon and the name), each at 1x and 2x, light and dark.

Home Assistant 2026.3+ serves them from the integration's own folder. Drawn at 4x and scaled
down, so the 2x images are as sharp as the 1x ones. Needs Pillow and DejaVu Sans Bold
(Debian: fonts-dejavu-core); run `python scripts/make-brand-images.py` after changing it.
"""

from __future__ import annotations

from math import cos, radians, sin
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parents[1] / "custom_components" / "ruview" / "brand"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
TEAL = (14, 138, 132, 255)
WHITE = (255, 255, 255, 255)
INK = {"light": (33, 33, 33, 255), "dark": (240, 240, 240, 255)}
OVERSAMPLE = 4
# On a 256 px square: the waves' centre, their outer radii and width, their span, the dot.
CENTRE, RADII, BAND, SPAN, DOT = (128.0, 199.5), (143.5, 105.5, 67.5), 22.0, (221.0, 319.0), 18.5


def icon(size: int) -> Image.Image:
    scale = size * OVERSAMPLE / 256
    image = Image.new("RGBA", (size * OVERSAMPLE,) * 2, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, image.width - 1, image.height - 1), radius=36 * scale, fill=TEAL)
    cx, cy = CENTRE[0] * scale, CENTRE[1] * scale
    for outer in RADII:
        r, width = outer * scale, BAND * scale
        draw.arc((cx - r, cy - r, cx + r, cy + r), *SPAN, fill=WHITE, width=round(width))
        middle = r - width / 2
        for angle in SPAN:  # round ends
            x, y = cx + middle * cos(radians(angle)), cy + middle * sin(radians(angle))
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=WHITE)
    dot = DOT * scale
    draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int, theme: str) -> Image.Image:
    """The icon and the name beside it, on a transparent background."""
    big = height * OVERSAMPLE
    font = ImageFont.truetype(FONT, round(big * 0.5))
    text_width = font.getbbox("RuView")[2]
    gap = round(big * 0.12)
    image = Image.new("RGBA", (big + gap + text_width + gap, big), (0, 0, 0, 0))
    image.alpha_composite(icon(height).resize((big, big), Image.Resampling.LANCZOS))
    ImageDraw.Draw(image).text((big + gap, big / 2), "RuView", font=font, fill=INK[theme], anchor="lm")
    return image.resize((image.width // OVERSAMPLE, height), Image.Resampling.LANCZOS)


def main() -> None:
    BRAND.mkdir(parents=True, exist_ok=True)
    for suffix, factor in (("", 1), ("@2x", 2)):
        icon(256 * factor).save(BRAND / f"icon{suffix}.png", optimize=True)
        for theme, prefix in (("light", ""), ("dark", "dark_")):
            logo(128 * factor, theme).save(BRAND / f"{prefix}logo{suffix}.png", optimize=True)


if __name__ == "__main__":
    main()
