#!/bin/sh
# Golden tests (STYLE rule 32): data, not code.
#
#   BUILD=build sh tests/golden/run.sh          compare
#   BUILD=build UPDATE=1 sh tests/golden/run.sh rewrite existing .err/.out
#
# 1. tests/golden/match/*.tsv: policy blocks and expected decisions.
#      policy<TAB>NAME                                 new block, no rules yet
#      rule<TAB>RULE TEXT                              next rule (tabs kept)
#      case<TAB>METHOD<TAB>URL<TAB>EXPECT<TAB>COMMENT  EXPECT: deny | allow:N
#      error<TAB>RULE<TAB>SUBSTRING<TAB>COMMENT        must not compile
#    '#' lines and blank lines are ignored.  Each block is compiled once
#    (one --allow per rule, in order) and all its cases go through one
#    `boundary-compile --decide` process; allow:N means the output line
#    must be "allow<TAB>" + the text of rule N of the block (blanks at the
#    ends of the rule text are not compared).  A "deny" line may carry a
#    reason after a tab.  An error row compiles the one rule alone and needs
#    exit status 2 and a diagnostic "--allow[1]:...: error: ..." whose text
#    contains SUBSTRING.
# 2. tests/golden/compile/X.yaml, run from inside tests/golden/compile as
#    `boundary-compile --config X.yaml -o OUT`: with X.err, stderr must be
#    X.err exactly and the exit status 2 if X.err has ": error:", else 0;
#    without X.err the exit status must be 0.  With X.out, `--dump OUT` must
#    print X.out exactly.  UPDATE=1 rewrites existing .err/.out files from
#    the actual output instead (make golden-update; review the diff).
#
# Output is TAP, ending with "# N passed, N failed"; the exit status is 1 if
# anything failed.

set -u

BUILD=${BUILD:-build}
UPDATE=${UPDATE:-0}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case $BUILD in
/*) bin=$BUILD/bin/boundary-compile ;;
*) bin=$root/$BUILD/bin/boundary-compile ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
res=$tmp/results
: >"$res"

# Appends "#   " + each line of file $2 (at most $3 lines, default 20),
# prefixed with label $1.
diag_file()
{
	awk -v label="$1" -v max="${3:-20}" '
		NR <= max { printf "#   %s%s\n", label, $0 }
		END { if (NR > max) printf "#   %s... (%d more lines)\n", label, NR - max }
	' "$2" >>"$res"
}

finish()
{
	awk '
		/^ok - / { n++; p++; sub(/^ok - /, ""); printf "ok %d - %s\n", n, $0; next }
		/^not ok - / { n++; f++; sub(/^not ok - /, ""); printf "not ok %d - %s\n", n, $0; next }
		{ print }
		END {
			printf "1..%d\n", n
			printf "# %d passed, %d failed\n", p, f
			exit (f > 0)
		}
	' "$res"
}

if [ ! -x "$bin" ]; then
	echo "not ok - $bin not found (run make)" >>"$res"
	finish
	exit 1
fi

# ---- 1. match files -----------------------------------------------------

blocks=$tmp/blocks
errs=$tmp/errs
mkdir -p "$blocks" "$errs"

# Splits every .tsv into per-block files: N.rules (one rule per line),
# N.in (the --decide input), N.desc (test names), N.exp (expected lines);
# and every error row into errs/K.rule, K.sub, K.where.  Malformed lines
# become failures right away.
set -- "$here"/match/*.tsv
if [ ! -f "$1" ]; then
	echo "not ok - no tests/golden/match/*.tsv files" >>"$res"
else
	awk -v bdir="$blocks" -v edir="$errs" -v res="$res" '
		function bad(msg) {
			printf "not ok - %s:%d malformed: %s\n", where, FNR, msg >> res
		}
		function trim(s) {
			sub(/^[ \t]+/, "", s)
			sub(/[ \t]+$/, "", s)
			return s
		}
		BEGIN { FS = "\t"; nb = 0; ne = 0 }
		FNR == 1 {
			where = FILENAME
			sub(/.*\//, "", where)
			where = "match/" where
			inblock = 0
		}
		/^#/ || /^[ \t]*$/ { next }
		$1 == "policy" {
			nb++
			nr = 0
			inblock = 1
			base = bdir "/" nb
			printf "" > (base ".rules")
			printf "" > (base ".in")
			printf "" > (base ".desc")
			printf "" > (base ".exp")
			printf "%s:%d %s\n", where, FNR, $2 > (base ".name")
			close(base ".name")
			next
		}
		$1 == "rule" {
			if (!inblock) { bad("rule outside a policy block"); next }
			r = substr($0, 6)
			rule[++nr] = r
			print r > (base ".rules")
			next
		}
		$1 == "case" {
			if (!inblock) { bad("case outside a policy block"); next }
			if (NF < 4 || $2 == "" || $3 == "" || $2 ~ /[ ]/ || $3 ~ /[ ]/) {
				bad("case needs METHOD, URL, EXPECT")
				next
			}
			if ($4 == "deny")
				e = "deny"
			else if ($4 ~ /^allow:[1-9][0-9]*$/) {
				i = substr($4, 7) + 0
				if (i > nr) { bad("allow:" i " but the block has " nr " rules so far"); next }
				e = "allow\t" trim(rule[i])
			} else {
				bad("EXPECT must be deny or allow:N")
				next
			}
			print $2 " " $3 > (base ".in")
			printf "%s:%d %s %s\n", where, FNR, $2, $3 > (base ".desc")
			print e > (base ".exp")
			next
		}
		$1 == "error" {
			if (NF < 3 || $3 == "") { bad("error needs RULE, SUBSTRING"); next }
			ne++
			printf "%s", $2 > (edir "/" ne ".rule")
			printf "%s", $3 > (edir "/" ne ".sub")
			printf "%s:%d error %s", where, FNR, $2 > (edir "/" ne ".where")
			close(edir "/" ne ".rule")
			close(edir "/" ne ".sub")
			close(edir "/" ne ".where")
			next
		}
		{ bad("unknown line type \"" $1 "\"") }
	' "$@"
fi

b=1
while [ -f "$blocks/$b.rules" ]; do
	base=$blocks/$b
	set --
	while IFS= read -r r; do
		set -- "$@" --allow "$r"
	done <"$base.rules"
	if "$bin" "$@" -o "$tmp/p.bpol" >"$tmp/cout" 2>"$tmp/cerr"; then
		"$bin" --decide "$tmp/p.bpol" <"$base.in" >"$tmp/got" 2>"$tmp/derr"
		drc=$?
		awk -v gotf="$tmp/got" -v descf="$base.desc" -v expf="$base.exp" \
		    -v drc="$drc" '
			function trim(s) {
				sub(/^[ \t]+/, "", s)
				sub(/[ \t]+$/, "", s)
				return s
			}
			function norm(s,   t) {
				if (s ~ /^allow\t/) {
					t = substr(s, 7)
					return "allow\t" trim(t)
				}
				return s
			}
			function show(s) {
				gsub(/\t/, "<TAB>", s)
				return s
			}
			BEGIN {
				while ((getline e < expf) > 0) {
					getline d < descf
					if ((getline g < gotf) <= 0)
						g = "(no output line)"
					ng = norm(g)
					okay = ng == e || (e == "deny" && ng ~ /^deny(\t|$)/)
					if (okay)
						printf "ok - %s\n", d
					else {
						printf "not ok - %s\n", d
						printf "#        got: %s\n", show(g)
						printf "#   expected: %s\n", show(e)
						if (drc != 0)
							printf "#   (--decide exited with status %s)\n", drc
					}
				}
				while ((getline g < gotf) > 0)
					printf "not ok - extra --decide output line: %s\n", show(g)
			}
		' >>"$res"
		if [ "$drc" -ne 0 ] && [ -s "$tmp/derr" ]; then
			diag_file "decide: " "$tmp/derr" 5
		fi
	else
		crc=$?
		while IFS= read -r d; do
			echo "not ok - $d" >>"$res"
		done <"$base.desc"
		printf '#   policy %s did not compile (exit %s):\n' \
		    "$(cat "$base.name")" "$crc" >>"$res"
		diag_file "" "$tmp/cerr" 10
	fi
	b=$((b + 1))
done

k=1
while [ -f "$errs/$k.rule" ]; do
	rule=$(cat "$errs/$k.rule")
	sub=$(cat "$errs/$k.sub")
	where=$(cat "$errs/$k.where")
	"$bin" --allow "$rule" -o "$tmp/e.bpol" >"$tmp/eout" 2>"$tmp/eerr"
	rc=$?
	why=
	if [ "$rc" -ne 2 ]; then
		why="exit status $rc, expected 2"
	elif ! grep -q -e '^--allow\[1\]:.*: error: ' "$tmp/eerr"; then
		why="no '--allow[1]:...: error: ' diagnostic"
	elif ! grep -q -F -e "$sub" "$tmp/eerr"; then
		why="stderr does not contain '$sub'"
	fi
	if [ -z "$why" ]; then
		echo "ok - $where" >>"$res"
	else
		echo "not ok - $where" >>"$res"
		echo "#   $why" >>"$res"
		diag_file "stderr: " "$tmp/eerr" 6
	fi
	k=$((k + 1))
done

# ---- 2. compile files ---------------------------------------------------

cdir=$here/compile
for y in "$cdir"/*.yaml; do
	[ -f "$y" ] || continue
	x=${y%.yaml}
	name=compile/${y##*/}
	rm -f "$tmp/x.bpol"
	(cd "$cdir" && "$bin" --config "${y##*/}" -o "$tmp/x.bpol") \
	    >"$tmp/xout" 2>"$tmp/xerr"
	rc=$?
	if [ -f "$x.err" ]; then
		if [ "$UPDATE" = 1 ]; then
			if cmp -s "$tmp/xerr" "$x.err"; then
				echo "ok - $name: ${x##*/}.err unchanged" >>"$res"
			else
				cp "$tmp/xerr" "$x.err"
				echo "ok - $name: ${x##*/}.err updated" >>"$res"
			fi
		else
			want=0
			grep -q ': error:' "$x.err" && want=2
			if diff -u "$x.err" "$tmp/xerr" >"$tmp/diff"; then
				d=ok
			else
				d=
			fi
			if [ -n "$d" ] && [ "$rc" -eq "$want" ]; then
				echo "ok - $name: stderr is ${x##*/}.err" >>"$res"
			else
				echo "not ok - $name: stderr is ${x##*/}.err" >>"$res"
				[ "$rc" -eq "$want" ] ||
				    echo "#   exit status $rc, expected $want" >>"$res"
				[ -n "$d" ] || diag_file "" "$tmp/diff" 40
			fi
		fi
	else
		if [ "$rc" -eq 0 ]; then
			echo "ok - $name: compiles" >>"$res"
		else
			echo "not ok - $name: compiles" >>"$res"
			echo "#   exit status $rc, expected 0 (no ${x##*/}.err)" >>"$res"
			diag_file "stderr: " "$tmp/xerr" 10
		fi
	fi
	if [ -f "$x.out" ]; then
		if [ "$rc" -ne 0 ] || [ ! -f "$tmp/x.bpol" ]; then
			echo "not ok - $name: dump is ${x##*/}.out (nothing compiled)" >>"$res"
			continue
		fi
		"$bin" --dump "$tmp/x.bpol" >"$tmp/xdump" 2>"$tmp/xderr"
		drc=$?
		if [ "$UPDATE" = 1 ]; then
			if [ "$drc" -ne 0 ]; then
				echo "not ok - $name: --dump failed (exit $drc)" >>"$res"
				diag_file "stderr: " "$tmp/xderr" 10
			elif cmp -s "$tmp/xdump" "$x.out"; then
				echo "ok - $name: ${x##*/}.out unchanged" >>"$res"
			else
				cp "$tmp/xdump" "$x.out"
				echo "ok - $name: ${x##*/}.out updated" >>"$res"
			fi
		elif [ "$drc" -eq 0 ] && diff -u "$x.out" "$tmp/xdump" >"$tmp/diff"; then
			echo "ok - $name: dump is ${x##*/}.out" >>"$res"
		else
			echo "not ok - $name: dump is ${x##*/}.out" >>"$res"
			[ "$drc" -eq 0 ] || {
				echo "#   --dump exited with status $drc" >>"$res"
				diag_file "stderr: " "$tmp/xderr" 10
				diff -u "$x.out" "$tmp/xdump" >"$tmp/diff"
			}
			diag_file "" "$tmp/diff" 40
		fi
	fi
done

finish
