#!/usr/bin/env bash
# evaluate.sh: the measurements of docs/RESULTS.md ("30 minutes of
# training"), scripted: train every recipe for MINUTES per seed on the CPC
# train split, probe phones and speakers on the full 391/105 split, probe
# random-init encoders and MFCC the same way, and put it all side by side
# with `replay compare`. Run from the repository root:
#
#   docs/evaluate.sh                          # every recipe, seeds 1-3
#   RECIPES="sync" SEEDS="1" docs/evaluate.sh # a part of it
#
# The runs behind docs/RESULTS.md are summarised in docs/results/30min;
# copying its probe directories into OUT (cp -r docs/results/30min/*-probe-*
# "$OUT"/) makes this script skip them and count them in the comparison.
#
# Runs one thing at a time (the machine has two cores and every command
# uses both). What is done is not redone: a recipe and seed whose probe
# results exist is skipped, and one whose training finished is only
# probed, so an interrupted evaluation continues where it stopped. Time:
# MINUTES plus about 7 minutes of probing per recipe and seed, 7 minutes
# per random-init seed.
set -euo pipefail

D=${D:-../shared/data}
OUT=${OUT:-runs/evaluate}
MINUTES=${MINUTES:-30}
SEEDS=${SEEDS:-1 2 3}
RECIPES=${RECIPES:-sync daynight bptt split}
REPLAY=${REPLAY:-$OUT/replay}

# flags of each recipe (everything else is replay train's default)
declare -A FLAGS=(
	[sync]="--night never"
	[daynight]="--night every:2"
	[bptt]="--night never --gru bptt"
	[split]="--night never --wpred split"
	[hingecpc]="--night never --rule hinge-cpc"
	[infonce]="--night never --rule infonce"
)
declare -A NAMES=(
	[sync]="CLAPP-s synchronous"
	[daynight]="CLAPP-s day/night"
	[bptt]="CLAPP-s, GRU by BPTT"
	[split]="CLAPP-s, split W_pred"
	[hingecpc]="hinge-CPC end to end"
	[infonce]="InfoNCE (GIM)"
)

mkdir -p "$OUT"
go build -buildvcs=true -o "$REPLAY" ./cmd/replay # the commit goes into every run directory
AUDIO=$D/LibriSpeech/train-clean-100
common=(--runs "$OUT" --log-format json --size paper)
probe=(probe --data "$AUDIO" --train-split "$D/cpc/train_split.txt" --test-split "$D/cpc/test_split.txt"
	--task phone,speaker --no-baselines --json "${common[@]}")

# done NAME: whether a probe run named NAME has its results
done_() { compgen -G "$OUT/*-probe-$1/results-speaker.json" >/dev/null; }
# trained NAME: the checkpoint of the last training run named NAME that
# finished its budget (an interrupted or killed run does not count)
trained() {
	local d ck=
	for d in "$OUT"/*-train-"$1"; do
		[[ -f $d/results.json && -f $d/checkpoint.safetensors ]] || continue
		grep -q '"interrupted": *false' "$d/results.json" && ck=$d/checkpoint.safetensors
	done
	echo "$ck"
}

for seed in $SEEDS; do
	for r in $RECIPES; do
		name=${r}_s$seed
		done_ "$name" && continue
		[[ -v FLAGS[$r] ]] || { echo "evaluate.sh: unknown recipe $r (known: ${!FLAGS[*]})" >&2; exit 2; }
		ckpt=$(trained "$name")
		if [[ -z $ckpt ]]; then
			echo "$(date +%T) train $name: ${FLAGS[$r]}, $MINUTES min" >&2
			# shellcheck disable=SC2086 # the flags are words
			"$REPLAY" train --data "$AUDIO" --split "$D/cpc/train_split.txt" --minutes "$MINUTES" --seed "$seed" \
				--progress off --name "$name" "${common[@]}" ${FLAGS[$r]} >"$OUT/$name.train.txt" 2>"$OUT/$name.train.log"
			ckpt=$(trained "$name")
			[[ -n $ckpt ]] || { echo "evaluate.sh: $name: training wrote no finished run (see $OUT/$name.train.log)" >&2; exit 1; }
		fi
		echo "$(date +%T) probe $name" >&2
		"$REPLAY" "${probe[@]}" --checkpoint "$ckpt" --name "$name" >"$OUT/$name.probe.json" 2>"$OUT/$name.probe.log"
	done
	if ! done_ "random_s$seed"; then
		echo "$(date +%T) probe random_s$seed" >&2
		"$REPLAY" "${probe[@]}" --random-init --seed "$seed" --name "random_s$seed" >"$OUT/random_s$seed.probe.json" 2>"$OUT/random_s$seed.probe.log"
	fi
done
if ! done_ mfcc; then
	"$REPLAY" "${probe[@]}" --mfcc --name mfcc >"$OUT/mfcc.probe.json" 2>"$OUT/mfcc.probe.log"
fi

# Every recipe probed in OUT so far, not only this invocation's RECIPES:
# an evaluation spread over several calls ends with the whole table.
for task in phone speaker; do
	groups=("random init=$OUT/*-probe-random_s*" "MFCC=$OUT/*-probe-mfcc")
	for r in sync daynight bptt split hingecpc infonce; do
		compgen -G "$OUT/*-probe-${r}_s*/results-$task.json" >/dev/null || continue
		groups+=("${NAMES[$r]}, $MINUTES min=$OUT/*-probe-${r}_s*")
	done
	"$REPLAY" compare --task "$task" --runs "$OUT" --name "$task" "${groups[@]}" 2>/dev/null
done
