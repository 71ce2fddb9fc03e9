#!/usr/bin/env bash
# Lexicon-size sweep (issue: performance): the banned-phrase rule `banned-offplatform`
# with its lexicon grown to 200, 2,000 and 20,000 phrases (the real ones plus
# generated Chinese phrases of 4 to 6 characters, which real text seldom contains,
# so that the hits stay about the same and the sweep measures the matching, not the
# number of hits), run alone with `zhijian check` on N messages, alternating the
# sizes REPEATS times. One automaton serves any number of phrases, so the time
# should stay nearly flat. The hits of each size are printed.
#
#   bash benches/lexicon.sh [N_MESSAGES=1000000] [REPEATS=3]
source "$(dirname "$0")/lib.sh"
N=${1:-1000000}
REPEATS=${2:-3}
machine
use_data "$N"
for SIZE in 200 2000 20000; do
  PACK="$WORK/pack-$SIZE"
  rm -rf "$PACK"
  cp -r rules "$PACK"
  python3 - "$PACK/lexicons/offplatform.txt" "$SIZE" <<'PY'
import random, sys
path, size = sys.argv[1], int(sys.argv[2])
real = [l.strip() for l in open(path, encoding="utf-8") if l.strip() and not l.startswith("#")]
rng = random.Random(size)
# Common CJK characters, so generated phrases share prefixes with real text.
chars = "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切"
have = set(real)
while len(real) < size:
    p = "".join(rng.choice(chars) for _ in range(rng.randint(4, 6)))
    if p not in have:
        have.add(p)
        real.append(p)
open(path, "w", encoding="utf-8").write("\n".join(real[:size]) + "\n")
PY
done
for SIZE in 200 2000 20000; do
  echo "phrases-$SIZE: $("$BIN" check banned-offplatform --rules "$WORK/pack-$SIZE" --input "$DATA" --limit 1 2>&1 | grep -m1 -o '[0-9]* hits')"
done
RESULTS="$WORK/lexicon-$N.txt"
rm -f "$RESULTS"
for _ in $(seq "$REPEATS"); do
  for SIZE in 200 2000 20000; do
    measure "$RESULTS" "phrases-$SIZE" "$BIN" check banned-offplatform --rules "$WORK/pack-$SIZE" --input "$DATA" --limit 5
  done
done
summarize "$RESULTS" "$MSGS" phrases-200
