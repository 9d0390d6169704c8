#!/usr/bin/env bash
# cli_report.sh -- `ketasim run --report DIR` and `ketasim plot`: the report is one
# self-contained HTML file (inline SVG and CSS, no script, no network address) with the
# disclaimer, axes with units and the plain-language text; the text is generated from the run
# (two scenarios that differ only in the dose time, or in the infusion length, give different
# times in the text); every figure can be written alone; bad usage is exit code 2.
set -u
: "${KETASIM:?KETASIM must name the ketasim command}"
: "${KS_SRC:?KS_SRC must name the source tree}"

fails=0
passes=0
pass() {
    echo "ok: $1"
    passes=$((passes + 1))
}
fail() {
    echo "FAIL: $1" >&2
    fails=$((fails + 1))
}
check() { # check "what" command...
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# 1. The default scenario's report.
"$KETASIM" run --quiet --out "$tmp/def" --report "$tmp/def" >"$tmp/def.out" 2>"$tmp/def.err"
rc=$?
check "run --report exits 0 (got $rc: $(head -c 300 "$tmp/def.err"))" test $rc -eq 0
html="$tmp/def/report.html"
check "report.html written" test -s "$html"
check "narrative.txt written" test -s "$tmp/def/narrative.txt"
check "timecourse.csv still written" test -s "$tmp/def/timecourse.csv"
check "disclaimer in the report" grep -q "not medical advice" "$html"
check "disclaimer in the narrative" grep -q "not medical advice" "$tmp/def/narrative.txt"
check "no script" bash -c "! grep -qi '<script' '$html'"
check "no external resource (only the SVG namespace URI)" \
    bash -c "! grep -oE '(https?:)?//[a-zA-Z0-9.-]+' '$html' | grep -v '^http://www.w3.org$' | grep -q ."
check "no link or img element" bash -c "! grep -qiE '<(link|img|iframe)' '$html'"
nsvg=$(grep -o '<svg ' "$html" | wc -l)
if head -1 "$tmp/def/timecourse.csv" | grep -q madrs_true; then
    check "four inline figures with the mechanism outputs (got $nsvg)" test "$nsvg" -eq 4
    for label in "Concentration (ng/mL)" "Percent (%)" "CADSS (points)" "% of healthy density" \
        "MADRS (points)" "Time (days from the start of the simulation)"; do
        check "axis label '$label'" grep -qF "$label" "$html"
    done
    check "text names the infusion" grep -qE "into the ([0-9]+[a-z]+ )?infusion" "$tmp/def/narrative.txt"
    check "text gives the window" grep -q "plasticity window" "$tmp/def/narrative.txt"
    check "text gives integration days" grep -q "Days that suit integration" "$tmp/def/narrative.txt"
else
    check "at least the concentration figure (got $nsvg)" test "$nsvg" -ge 1
    check "text says what it could not describe" grep -q "could not describe" \
        "$tmp/def/narrative.txt"
fi
check "axis label with unit" grep -qF "Concentration (ng/mL)" "$html"
check "no NaN or inf in coordinates" \
    bash -c "! grep -qiE ' (d|x|y|x1|x2|y1|y2|width|height)=\"[^\"]*(nan|inf)' '$html'"

# 2. Generated, not canned: scenarios that differ only in the dose time or in the infusion
#    length give different times in the text.
mk() { # mk FILE TIME DURATION_MIN
    cat >"$1" <<JSON
{"name": "report-test", "patient": {"weight_kg": 70},
 "doses": [{"drug": "ketamine", "route": "iv_infusion", "mg_per_kg": 0.5,
            "duration_min": $3, "at_time": "$2"}],
 "span": {"days": 7}, "output": {"step_min": 5}}
JSON
}
mk "$tmp/a.json" "09:00" 40
mk "$tmp/b.json" "21:00" 40
mk "$tmp/c.json" "09:00" 100
for s in a b c; do
    "$KETASIM" run --quiet --out "$tmp/$s" --report "$tmp/$s" "$tmp/$s.json" 2>"$tmp/$s.err" ||
        fail "run --report $s.json: $(head -c 300 "$tmp/$s.err")"
done
check "09:00 dose in text" grep -q "starting day 0 at 09:00" "$tmp/a/narrative.txt"
check "21:00 dose in text" grep -q "starting day 0 at 21:00" "$tmp/b/narrative.txt"
check "different dose times give different narratives" \
    bash -c "! cmp -s '$tmp/a/narrative.txt' '$tmp/b/narrative.txt'"
# the measured times (everything after the dose list) differ too, not only the dose line
check "different dose times change the measured times" \
    bash -c "! cmp -s <(grep -v '^- ' '$tmp/a/narrative.txt') <(grep -v '^- ' '$tmp/b/narrative.txt')"
check "different infusion lengths change the measured times" \
    bash -c "! cmp -s <(grep -v '^- ' '$tmp/a/narrative.txt') <(grep -v '^- ' '$tmp/c/narrative.txt')"
check "ketamine peak at the end of a 40-min infusion" \
    grep -q "ketamine peaked at [0-9.]* ng/mL 40 minutes into the infusion" "$tmp/a/narrative.txt"
check "ketamine peak at the end of a 100-min infusion" \
    grep -q "ketamine peaked at [0-9.]* ng/mL 100 minutes into the infusion" "$tmp/c/narrative.txt"

# 3. ketasim plot: each figure alone.
for fig in pk cascade spines mood; do
    "$KETASIM" plot "$fig" --out "$tmp/$fig.svg" >"$tmp/plot.out" 2>"$tmp/plot.err"
    rc=$?
    if [ $rc -ne 0 ] && grep -q "none of the outputs" "$tmp/plot.err"; then
        pass "plot $fig: outputs absent, said so (exit $rc)"
        continue
    fi
    check "plot $fig exits 0 (got $rc: $(head -c 200 "$tmp/plot.err"))" test $rc -eq 0
    check "plot $fig writes an SVG" grep -q '^<svg xmlns="http://www.w3.org/2000/svg"' "$tmp/$fig.svg"
    check "plot $fig closes the SVG" grep -q '^</svg>$' "$tmp/$fig.svg"
done
"$KETASIM" plot pk --log --out "$tmp/pklog.svg" >/dev/null 2>&1
check "plot pk --log" grep -q '<svg' "$tmp/pklog.svg"
(cd "$tmp" && "$KETASIM" plot mood >/dev/null 2>&1)
check "plot default output name FIGURE.svg" test -s "$tmp/mood.svg"
"$KETASIM" plot --help >"$tmp/help.txt"
check "plot --help lists the figures" grep -q "cascade" "$tmp/help.txt"
"$KETASIM" plot nosuch --out "$tmp/x.svg" 2>/dev/null
check "unknown figure is exit 2" test $? -eq 2
"$KETASIM" plot 2>/dev/null
check "no figure is exit 2" test $? -eq 2
"$KETASIM" plot pk --subject 2 --out "$tmp/x.svg" 2>/dev/null
check "subject out of range is exit 2" test $? -eq 2
"$KETASIM" run --quiet --out "$tmp/e" --report 2>/dev/null
check "--report without DIR is exit 2" test $? -eq 2
touch "$tmp/file"
"$KETASIM" run --quiet --out "$tmp/e" --report "$tmp/file" 2>/dev/null
check "--report onto a file is exit 2" test $? -eq 2

# 4. ketasim trial --report: a small trial, with the Kaplan-Meier figure from the patient rows.
"$KETASIM" trial --n 12 --quiet --report "$tmp/trial" >"$tmp/trial.out" 2>"$tmp/trial.err"
rc=$?
check "trial --report exits 0 (got $rc: $(head -c 300 "$tmp/trial.err"))" test $rc -eq 0
check "trial report.html" grep -q "not medical advice" "$tmp/trial/report.html"
check "trial patient rows for the Kaplan-Meier curves" test -s "$tmp/trial/trial_patients.csv"
for id in trial-means trial-rates trial-km; do
    check "trial figure $id" grep -q "id=\"fig-$id\"" "$tmp/trial/report.html"
done
check "trial text gives response rates" grep -q "Responders at each visit" "$tmp/trial/narrative.txt"
check "trial: no NaN or inf in coordinates" \
    bash -c "! grep -qiE ' (d|x|y|cx|cy|x1|x2|y1|y2|width|height)=\"[^\"]*(nan|inf)' '$tmp/trial/report.html'"

echo "cli_report: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
