#!/bin/sh
# test_report_render: the report renders in a real browser. Builds a small run (metrics,
# two eval files, samples), runs `rlvr report`, then with headless Chromium (no
# network, no GPU, a throwaway profile, every call under `timeout`):
#   1. a screenshot: the PNG exists, has the window's size, and is not blank: Chromium
#      itself decodes it (a data: URL on a canvas) and counts non-background pixels,
#      distinct colours and pixels of the two series colours;
#   2. --dump-dom of the page: every chart id listed in report.json is in the DOM;
#   3. the page in an iframe: every chart has a laid-out size and every series listed
#      in report.json has a path with a non-empty bounding box (all <details> opened).
# The checker pages use script; the report itself has none.
# Prints SKIP (exit 0) only when Chromium is absent; `make deps` installs it.
# Env: RLVR_BIN (default build/rlvr), RLVR_KEEP=1 keeps the temp directory.
set -u
bin=${RLVR_BIN:-build/rlvr}
chrome=""
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then chrome=$c; break; fi
done
if [ -z "$chrome" ]; then
  echo "SKIP test_report_render: chromium is not installed (sh scripts/deps.sh installs Debian's chromium)"
  exit 0
fi
[ -x "$bin" ] || { echo "FAIL test_report_render: no $bin (run make first)"; exit 1; }
t0=$(date +%s)
tmp=$(mktemp -d /tmp/rlvr_render_XXXXXX) || exit 1
fails=0
fail() { echo "  FAIL $*"; fails=$((fails + 1)); }
cleanup() { [ "${RLVR_KEEP:-0}" = 1 ] && echo "kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT

# ---- inputs ----
run=$tmp/run
mkdir -p "$run"
awk 'BEGIN {
  print "{\"step\":0,\"eval\":{\"acc_d1\":0.40,\"acc_d2\":0.10}}"
  for (s = 1; s <= 80; s++) {
    r = 0.3 + 0.4 * s / 80 + 0.08 * sin(s * 1.7);
    printf "{\"step\":%d,\"reward_mean\":%.4f,\"reward_std\":%.4f,\"acc\":%.4f,\"zero_std_frac\":%.3f,\"kept_groups\":16,", s, r, 0.45 - 0.001 * s, r, 0.6 - 0.004 * s
    printf "\"len_mean\":%.2f,\"len_min\":%d,\"len_max\":%d,\"trunc_frac\":%.3f,\"loss\":%.5f,\"pg_loss\":%.5f,\"kl\":%.5f,", 24 + 4 * cos(s / 5), 12, 40 + s % 9, 0.02 * (s % 3), 0.02 * sin(s), 0.015 * sin(s), 0.0004 * s
    printf "\"entropy\":%.4f,\"clip_frac_low\":%.4f,\"clip_frac_high\":%.4f,\"clip_frac_dual\":0,\"ratio_mean\":1,\"ratio_max\":%.3f,", 1.2 - 0.008 * s, 0.01 + 0.005 * sin(s), 0.02 + 0.01 * cos(s), 1.2 + 0.1 * sin(s)
    printf "\"grad_norm\":%.3f,\"lr\":1e-5,\"skipped\":0,\"sample_s\":%.2f,\"train_s\":%.2f,\"sample_tok_s\":%.0f,\"train_tok_s\":%.0f,\"elapsed_s\":%.1f}\n", 0.4 + 0.2 * sin(s / 3), 2 + 0.3 * sin(s), 3, 9000 + 500 * sin(s), 2500, 5.2 * s
    if (s % 20 == 0) printf "{\"step\":%d,\"eval\":{\"acc_d1\":%.3f,\"acc_d2\":%.3f}}\n", s, 0.4 + 0.004 * s, 0.1 + 0.002 * s
  }
}' > "$run/metrics.jsonl"
for m in 0 1; do
  awk -v m=$m 'BEGIN {
    printf "{\"model\":\"runs/m%d\",\"n\":16,\"difficulties\":[", m
    for (d = 1; d <= 3; d++) {
      printf "%s{\"difficulty\":%d", (d > 1 ? "," : ""), d
      split("pass maj cot_pass", names, " ")
      for (t = 1; t <= 3; t++) {
        printf ",\"%s\":[", names[t]
        j = 0
        for (k = 1; k <= 16; k *= 2) {
          v = (0.95 - 0.28 * d + 0.06 * j + 0.08 * m) * (t == 3 ? 0.85 : 1) - (t == 2 ? 0.03 * j : 0)
          if (v > 1) v = 1
          printf "%s{\"k\":%d,\"mean\":%.4f,\"ci_lo\":%.4f,\"ci_hi\":%.4f}", (j ? "," : ""), k, v, v - 0.07, (v + 0.07 > 1 ? 1 : v + 0.07)
          j++
        }
        printf "]"
      }
      printf "}"
    }
    print "]}"
  }' > "$tmp/eval$m.json"
done
printf '%s\n' '{"step":80,"prompt":"What is 12+7?","completion":"12+7=19\n#19","reward":1,"correct":1}' \
  '{"step":80,"prompt":"What is 3*4-5?","completion":"3*4=12\n12-5=6\n#6","reward":0,"correct":0}' > "$run/samples.jsonl"
if ! "$bin" report "$run" "eval=[$tmp/eval0.json,$tmp/eval1.json]" "labels=[before,after]" timestamp=false > "$tmp/report.log" 2>&1; then
  cat "$tmp/report.log"
  echo "FAIL test_report_render: rlvr report failed"
  exit 1
fi
html=$run/report.html
json=$run/report.json
ids=$(sed -n 's/^[[:space:]]*"id":[[:space:]]*"\(chart-[^"]*\)".*/\1/p' "$json")
n_ids=$(echo "$ids" | grep -c .)
[ "$n_ids" -ge 15 ] || fail "report.json lists $n_ids charts (expected at least 15)"

# ---- headless Chromium ----
W=1280 H=2400
chrome_run() { # args...: one Chromium call, bounded
  timeout -k 5 90 "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --no-default-browser-check \
    --disable-extensions --disable-sync --disable-background-networking --disable-component-update \
    --user-data-dir="$tmp/profile" "$@" 2>>"$tmp/chrome.log"
}

# 1. screenshot, and its pixels
chrome_run --screenshot="$tmp/shot.png" --window-size=$W,$H "file://$html" > /dev/null
if [ ! -s "$tmp/shot.png" ]; then
  fail "no screenshot written (chromium log: $(tail -3 "$tmp/chrome.log" | tr '\n' ' '))"
else
  sig=$(od -An -tx1 -N8 "$tmp/shot.png" | tr -d ' \n')
  [ "$sig" = 89504e470d0a1a0a ] || fail "screenshot is not a PNG (signature $sig)"
  dims=$(od -An -tu1 -j16 -N8 "$tmp/shot.png" | awk '{print ($1*16777216+$2*65536+$3*256+$4) "x" ($5*16777216+$6*65536+$7*256+$8)}')
  [ "$dims" = "${W}x$H" ] || fail "screenshot is $dims, expected ${W}x$H"
  {
    printf '<!DOCTYPE html><html><body><pre id="out">pending</pre><img id="im" src="data:image/png;base64,'
    base64 -w0 "$tmp/shot.png"
    cat <<'EOF'
"><script>
function near(d, i, c) { return Math.abs(d[i] - c[0]) + Math.abs(d[i + 1] - c[1]) + Math.abs(d[i + 2] - c[2]) < 40; }
function stats() {
  var im = document.getElementById('im'), c = document.createElement('canvas');
  c.width = im.naturalWidth; c.height = im.naturalHeight;
  var g = c.getContext('2d'); g.drawImage(im, 0, 0);
  var d = g.getImageData(0, 0, c.width, c.height).data, bg = [d[0], d[1], d[2]];
  var diff = 0, blue = 0, orange = 0, colors = new Set();
  for (var i = 0; i < d.length; i += 4) {
    if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 24) diff++;
    if (near(d, i, [0x4e, 0x79, 0xa7])) blue++;
    if (near(d, i, [0xf2, 0x8e, 0x2b])) orange++;
    if (colors.size < 100000) colors.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  }
  document.getElementById('out').textContent = 'nonbg=' + Math.round(1e4 * diff / (d.length / 4)) + ' colors=' + colors.size + ' blue=' + blue + ' orange=' + orange;
}
var im = document.getElementById('im'); if (im.complete) stats(); else im.onload = stats;
</script></body></html>
EOF
  } > "$tmp/pixels.html"
  px=$(chrome_run --virtual-time-budget=10000 --dump-dom "file://$tmp/pixels.html" | sed -n 's/.*id="out">\([^<]*\)<.*/\1/p')
  echo "   screenshot $dims: $px"
  nonbg=$(echo "$px" | sed -n 's/.*nonbg=\([0-9]*\).*/\1/p')
  colors=$(echo "$px" | sed -n 's/.*colors=\([0-9]*\).*/\1/p')
  blue=$(echo "$px" | sed -n 's/.*blue=\([0-9]*\).*/\1/p')
  orange=$(echo "$px" | sed -n 's/.*orange=\([0-9]*\).*/\1/p')
  if [ -z "$nonbg" ]; then fail "could not decode the screenshot in Chromium"
  else
    [ "$nonbg" -ge 300 ] || fail "screenshot nearly blank: $nonbg/10000 pixels differ from the background"
    [ "$colors" -ge 100 ] || fail "screenshot has only $colors colours"
    [ "$blue" -ge 2000 ] && [ "$orange" -ge 1000 ] || fail "series colours barely visible: blue $blue, orange $orange pixels"
  fi
fi

# 2. the rendered DOM holds every chart
chrome_run --dump-dom "file://$html" > "$tmp/dom.html"
[ -s "$tmp/dom.html" ] || fail "--dump-dom gave nothing"
missing=0
for id in $ids; do
  grep -q "id=\"$id\"" "$tmp/dom.html" || { fail "chart $id not in the rendered DOM"; missing=$((missing + 1)); }
done
grep -qi "<script" "$tmp/dom.html" && fail "the report has a script element"

# 3. layout: every chart has a size, every series a non-empty box
sed 's#</#<\\/#g' "$json" > "$tmp/report.json.js"
{
  printf '<!DOCTYPE html><html><body><pre id="out">pending</pre><iframe id="f" width="1280" height="2400" src="file://%s"></iframe>' "$html"
  printf '<script type="application/json" id="rj">'
  cat "$tmp/report.json.js"
  cat <<'EOF'
</script><script>
document.getElementById('f').onload = function () {
  var out = document.getElementById('out'), bad = [], ok = 0, doc;
  try { doc = this.contentDocument; } catch (e) { out.textContent = 'no access: ' + e; return; }
  if (!doc) { out.textContent = 'no access to the report document'; return; }
  doc.querySelectorAll('details').forEach(function (d) { d.open = true; });
  var rj = JSON.parse(document.getElementById('rj').textContent);
  rj.charts.forEach(function (c) {
    var svg = doc.getElementById(c.id);
    if (!svg) { bad.push(c.id + ' missing'); return; }
    var r = svg.getBoundingClientRect();
    if (r.width < 300 || r.height < 120) bad.push(c.id + ' laid out ' + Math.round(r.width) + 'x' + Math.round(r.height));
    c.series.forEach(function (s) {
      var p = svg.querySelector('path[data-series="' + s.key + '"]');
      if (!p) { bad.push(c.id + '/' + s.key + ' missing'); return; }
      var b = p.getBBox();
      if (b.width > 0 || b.height > 0 || s.n == 1) ok++; else bad.push(c.id + '/' + s.key + ' empty');
    });
  });
  out.textContent = 'charts=' + rj.charts.length + ' series_ok=' + ok + ' bad=' + bad.length + (bad.length ? ': ' + bad.join('; ') : '');
};
</script></body></html>
EOF
} > "$tmp/layout.html"
lay=$(chrome_run --allow-file-access-from-files --virtual-time-budget=10000 --window-size=1400,2600 --dump-dom "file://$tmp/layout.html" |
      sed -n 's/.*id="out">\([^<]*\)<.*/\1/p')
echo "   layout: $lay"
case "$lay" in
  *"bad=0") ;;
  "") fail "layout check gave no result" ;;
  *) fail "layout: $lay" ;;
esac
echo "   ($n_ids charts; chromium $("$chrome" --version 2>/dev/null | awk '{print $2}'); $(($(date +%s) - t0))s)"
if [ "$fails" -ne 0 ]; then
  echo "test_report_render: $fails failed (rerun with RLVR_KEEP=1 to keep $tmp)"
  exit 1
fi
echo "test_report_render: ok"
