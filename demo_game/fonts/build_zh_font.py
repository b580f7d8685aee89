"""Rebuild narrator-zh.ttf: WenQuanYi Micro Hei cut down to the characters the game can show in Chinese.

    python demo_game/fonts/build_zh_font.py [--source /usr/share/fonts/truetype/wqy/wqy-microhei.ttc]

The source is Debian's `fonts-wqy-microhei` (Apache-2.0). The subset keeps printable ASCII, CJK punctuation
and every character in the Chinese narrator grammar (agents/narrator/lines/zh.json) and in the game's own
Chinese labels, which keeps the shipped file near 300 KB instead of 5 MB. Run it again after editing zh.json;
a test fails while a character of the grammar is missing from the font.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

HERE = Path(__file__).resolve().parent
GRAMMAR = HERE.parents[1] / "agents" / "narrator" / "lines" / "zh.json"
OUT = HERE / "narrator-zh.ttf"
SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
LABELS = "中文英语旁白开关语言"
PUNCTUATION = "，。！？、；：“”‘’（）《》…—·「」『』～"


def characters() -> str:
    """Everything the subset must cover."""
    grammar = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    text = "".join(s for key, values in grammar.items() if not key.startswith("_") for s in values)
    ascii_printable = "".join(chr(c) for c in range(32, 127))
    return "".join(sorted(set(text + LABELS + PUNCTUATION + ascii_printable)))


def build(source: Path = SOURCE, out: Path = OUT) -> Path:
    font = TTCollection(str(source)).fonts[0]  # 0: Micro Hei (1: its monospaced sibling)
    options = subset.Options()
    options.name_IDs = ["*"]  # keep the names, licence and copyright notice
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters())
    subsetter.subset(font)
    tmp = out.with_suffix(".tmp")
    font.save(str(tmp))
    tmp.replace(out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    args = parser.parse_args()
    path = build(args.source)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB, {len(characters())} characters)")
