#!/bin/sh
# The font embedded in fimkit's plots (src/fit/plot.rs): DejaVu Sans cut
# down to ASCII, Latin-1 signs, Greek and a few math symbols (about 40 KB).
# DejaVu fonts: Bitstream Vera license + public-domain changes; see
# assets/fonts/LICENSE-DejaVu.
#   pip install fonttools
#   sh scripts/fit/subset_font.sh
set -e
pyftsubset /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
  --unicodes="U+0020-007E,U+00A0-00FF,U+0391-03C9,U+2013,U+2014,U+2026,U+2070-209C,U+1D40,U+2212,U+221D,U+2211,U+2207,U+2202,U+00B7,U+2264,U+2265,U+2248,U+2113,U+0302,U+2032,U+2192" \
  --layout-features='*' --output-file=assets/fonts/DejaVuSans-subset.ttf
