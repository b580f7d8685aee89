"""The headless run's recording: an animated WebP around the hero (a GIF where Pillow has no WebP), in memory
bounded by design.

A frame is kept once every `stride` offered frames. When `max_frames` are held, every other one is dropped and
the stride doubles, so a run of any length holds at most `max_frames` frames (each an RGB image of `size`:
about 78 MB at the defaults), spaced evenly over the whole run; the file still plays in real time, at a lower frame rate for
longer runs. Frames are cropped around the screen's centre, where the camera keeps the hero, so the characters are
drawn at `zoom` times the size a whole-screen shrink to `size` would give them.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, features

DEFAULT_SIZE = (480, 270)
DEFAULT_ZOOM = 2.0
DEFAULT_MAX_FRAMES = 200
WEBP_QUALITY = 40
"""the default 60-s autoplay of seed 7 (182 frames) comes to about 2.5 MB; 200 frames stay under 3 MB"""
GIF_COLOURS = 64


class Recording:
    def __init__(
        self,
        screen_size: tuple[int, int],
        offered_per_second: float,
        size: tuple[int, int] = DEFAULT_SIZE,
        zoom: float = DEFAULT_ZOOM,
        max_frames: int = DEFAULT_MAX_FRAMES,
    ) -> None:
        """`offered_per_second`: how many frames `offer` gets per second of game time."""
        valid = (
            all(isinstance(v, int) and 1 <= v <= 4096 for v in size)
            and isinstance(max_frames, int)
            and max_frames >= 4
            and zoom >= 1
            and 1e-3 <= offered_per_second <= 1e6
        )
        if not valid:  # (written so that NaN fails every comparison)
            raise ValueError(
                f"expected a size of 1..4096 px, max_frames an integer >= 4, zoom >= 1 and offered_per_second "
                f"within 0.001..1e6, got {size}, {max_frames}, {zoom}, {offered_per_second}"
            )
        sw, sh = screen_size
        # the crop: the centre of the screen, 1/zoom of what a whole-screen shrink to `size` would show
        scale = min(size[0] / sw, size[1] / sh) * zoom
        cw, ch = min(sw, round(size[0] / scale)), min(sh, round(size[1] / scale))
        self.box = ((sw - cw) // 2, (sh - ch) // 2, (sw - cw) // 2 + cw, (sh - ch) // 2 + ch)
        self.screen_size, self.size, self.max_frames = screen_size, size, max_frames
        self.offered_per_second = offered_per_second
        self.frames: list[Image.Image] = []
        self.stride, self.offered = 1, 0

    def offer(self, grab: Callable[[], bytes]) -> None:
        """A frame: `grab()` returns the screen's pixels (RGB, row by row), and is called only for a frame the
        stride keeps."""
        keep = self.offered % self.stride == 0
        self.offered += 1
        if not keep:
            return
        screen = Image.frombytes("RGB", self.screen_size, grab())
        frame = screen.crop(self.box).resize(self.size, Image.Resampling.BOX)
        self.frames.append(frame)
        if len(self.frames) >= self.max_frames:
            self.frames = self.frames[::2]
            self.stride *= 2

    @property
    def suffix(self) -> str:
        """The file type `encode` writes: ".webp", or ".gif" where this Pillow cannot write WebP."""
        return ".webp" if features.check("webp") else ".gif"

    @property
    def frame_ms(self) -> int:
        return round(1000 * self.stride / self.offered_per_second)

    def encode(self) -> bytes:
        """The recording as a looping animation (of type `suffix`) that plays in real time."""
        if not self.frames:
            raise ValueError("nothing was recorded")
        buf = io.BytesIO()
        common = {"save_all": True, "duration": self.frame_ms, "loop": 0}
        if self.suffix == ".webp":
            first, rest = self.frames[0], self.frames[1:]
            first.save(buf, format="WEBP", append_images=rest, quality=WEBP_QUALITY, method=4, **common)
        else:
            frames = [f.quantize(GIF_COLOURS, method=Image.Quantize.MEDIANCUT) for f in self.frames]
            frames[0].save(buf, format="GIF", append_images=frames[1:], **common)
        return buf.getvalue()
