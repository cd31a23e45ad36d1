"""Build the Tibetan web fonts the pages load from the full Noto Serif Tibetan in scripts/fonts/.

    .venv/bin/python scripts/subset_fonts.py      # writes kiosk/static/fonts/*.woff2, prints sizes

Run it again whenever the language switch's Tibetan name (kiosk/i18n.py LANGUAGE_NAMES) or the
Tibetan "Touch to start" (kiosk/translations/bo/LC_MESSAGES/messages.po) changes: the label font
holds only their letters. Needs fontTools and brotli (the `fonts` extra in pyproject.toml).

The sources are Noto Serif Tibetan 2.103 (OFL, scripts/fonts/LICENSE-NotoSerifTibetan.txt) as
Fontsource ships its "tibetan" subset: the whole Tibetan block, 1,891 glyphs, no hinting. Two
fonts are built from them (issue 9: a Chinese first visit of kiosk home within 40 KB, a Tibetan
one within 150 KB, everything included):

- The label font: the glyphs of the few Tibetan words every page shows whatever its language,
  each in the weight it is shown in: the switch's "བོད་ཡིག" (regular, 2 KB, what a Chinese page
  loads instead of the text font) and "Touch to start" on kiosk home (bold, 6 KB).
- The text font, regular only, for pages and passages in Tibetan: every Tibetan character, every
  stack. What is left out is only the ready-drawn forms of stacks that Tibetan spelling never
  makes (Sanskrit letters: retroflex and aspirated voiced, the a-chung and the long and vocalic
  vowels; they spell mantras and Sanskrit names). Without them the shaper still builds those
  stacks, from the letters and the font's mark positions, so they read right, only a little
  taller than the ready-drawn forms. That leaves a third of the glyphs out: 100 KB instead of
  152 KB (152 KB and the page's 34 KB would not fit in 150 KB). The bold, so made (113 KB), does
  not fit beside it either: bold Tibetan (titles, labels, buttons) is the browser's synthesized
  bold, which on the tablet's home and wish form in Chromium reads close to the real bold and
  keeps titles and labels standing out, where font-synthesis: none would flatten them.
"""
from pathlib import Path

from babel.messages.pofile import read_po
from fontTools import subset
from fontTools.ttLib import TTFont

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "scripts" / "fonts"
SERVED = REPO / "kiosk" / "static" / "fonts"
BO_CATALOGUE = REPO / "kiosk" / "translations" / "bo" / "LC_MESSAGES" / "messages.po"

WEIGHTS = {400: "NotoSerifTibetan-Regular.woff2", 700: "NotoSerifTibetan-Bold.woff2"}
TEXT_FONT = "noto-serif-tibetan-400.woff2"
LABEL_FONT = "noto-serif-tibetan-label-{weight}.woff2"

# Letters and signs that Tibetan spelling does not use, only Sanskrit written in Tibetan script.
SANSKRIT_ONLY = {
    0x0F43, 0x0F4A, 0x0F4B, 0x0F4C, 0x0F4D, 0x0F4E, 0x0F52, 0x0F57, 0x0F5C, 0x0F65, 0x0F69,  # gha, retroflex ṭa…ṇa, dha, bha, dzha, ṣa, kṣa
    0x0F6A, 0x0F6B, 0x0F6C,  # fixed-form ra, kka, rra
    0x0F93, 0x0F9A, 0x0F9B, 0x0F9C, 0x0F9D, 0x0F9E, 0x0FA2, 0x0FA7, 0x0FAC, 0x0FB5, 0x0FB9,  # the same, subjoined
    0x0FBA, 0x0FBB, 0x0FBC,  # fixed-form subjoined wa, ya, ra
    0x0F71, 0x0F73, 0x0F75, 0x0F76, 0x0F77, 0x0F78, 0x0F79, 0x0F7B, 0x0F7D, 0x0F81,  # a-chung; long and vocalic vowels
}


def fixed_tibetan_words() -> dict[int, str]:
    """{weight: the Tibetan words shown in that weight on a page of any language}, the label
    font's text: the switch's "བོད་ཡིག" is regular (base.css .lang-switch button), "Touch to
    start" bold (kiosk.css .attract-words). Each weight holds only its own words: the regular is
    in every Chinese page's first visit, where the words of both (7 KB) and the page's 34 KB would
    not fit within 40 KB; the bold is fetched only when "Touch to start" shows."""
    from kiosk.i18n import LANGUAGE_NAMES  # the app's own, as the switch shows it

    with BO_CATALOGUE.open("rb") as po:
        # Fuzzy entries count: `make translations` compiles them in (--use-fuzzy).
        touch_to_start = read_po(po, locale="bo").get("Touch to start")
    # Untranslated, the screen shows the English: no Tibetan letter is needed then.
    return {400: LANGUAGE_NAMES["bo"], 700: touch_to_start.string if touch_to_start else ""}


def options() -> subset.Options:
    """What a browser needs and no more: every OpenType feature (Tibetan shaping lives in them),
    no hinting (the sources have none left but the `prep` table), no glyph names."""
    found = subset.Options()
    found.layout_features = ["*"]
    found.hinting = False
    found.drop_tables += ["STAT"]  # style linking for font menus
    found.glyph_names = False
    return found


def components(glyph_name: str) -> list[int]:
    """The characters a ready-drawn stack is made of, from its name: "uni0F420FB20F71.2" ->
    [0x0F42, 0x0FB2, 0x0F71]; [] for a name that does not spell characters."""
    hexes = glyph_name.split(".")[0].removeprefix("uni")
    if not glyph_name.startswith("uni") or len(hexes) % 4:
        return []
    return [int(hexes[i:i + 4], 16) for i in range(0, len(hexes), 4)]


def drop_sanskrit_stacks(font: TTFont) -> set[str]:
    """Take the ready-drawn stacks with a Sanskrit-only character out of the substitutions that
    make them; the subsetter then leaves out every glyph nothing reaches any more. The letters
    themselves stay (the cmap is untouched), so such a stack is built from its parts."""
    unwanted = {name for name in font.getGlyphOrder()
                if len(components(name)) > 1 and SANSKRIT_ONLY & set(components(name))}
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for table in lookup.SubTable:
            kind = lookup.LookupType
            if kind == 7:  # extension: the real subtable is inside
                kind, table = table.ExtensionLookupType, table.ExtSubTable
            if kind == 1:
                table.mapping = {key: out for key, out in table.mapping.items() if out not in unwanted}
            elif kind == 2:
                table.mapping = {key: out for key, out in table.mapping.items() if not unwanted & set(out)}
            elif kind == 3:
                table.alternates = {key: [a for a in alts if a not in unwanted] for key, alts in table.alternates.items()}
            elif kind == 4:
                table.ligatures = {first: [lig for lig in ligs if lig.LigGlyph not in unwanted]
                                   for first, ligs in table.ligatures.items()}
    return unwanted


def save(font: TTFont, name: str) -> int:
    font.flavor = "woff2"
    path = SERVED / name
    font.save(path)
    return path.stat().st_size


def load(weight: int) -> TTFont:
    # Same input, same bytes: the build date would otherwise go into the fonts.
    return TTFont(SOURCES / WEIGHTS[weight], recalcTimestamp=False)


def build() -> dict[str, int]:
    sizes = {}
    for weight, words in fixed_tibetan_words().items():
        font = load(weight)
        missing = {ch for ch in words if not ch.isspace() and ord(ch) not in font.getBestCmap()}
        if missing:
            raise SystemExit(f"Noto Serif Tibetan has no glyph for {sorted(missing)} in {words!r}")
        subsetter = subset.Subsetter(options())
        subsetter.populate(text=words)
        subsetter.subset(font)
        sizes[LABEL_FONT.format(weight=weight)] = save(font, LABEL_FONT.format(weight=weight))

    font = load(400)
    unwanted = drop_sanskrit_stacks(font)
    subsetter = subset.Subsetter(options())
    subsetter.populate(unicodes=font.getBestCmap())
    subsetter.subset(font)
    left = unwanted & set(font.getGlyphOrder())
    assert not left, f"still reachable: {sorted(left)[:5]}"
    sizes[TEXT_FONT] = save(font, TEXT_FONT)
    return sizes


if __name__ == "__main__":
    for name, size in build().items():
        print(f"{size:>8,} B  kiosk/static/fonts/{name}")
