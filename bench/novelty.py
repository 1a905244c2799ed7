"""Benchmark: exact ROUGE-L novelty index vs the Alpaca-style filter, same decisions.

    .venv/bin/python bench/novelty.py            # 50K pool x 20K candidates, then 1M x 20K
    .venv/bin/python bench/novelty.py --quick    # 20K x 2K, small samples: a few seconds
    .venv/bin/python bench/novelty.py --pool-size 200000 --candidates 5000 --ref-sample 2

Each scale runs in a fresh process so its peak RSS is its own. Per scale it

1. generates seeded instruction-like text: a Zipf vocabulary, 5-30 word templates, and
   candidates that are half fresh text, half near-duplicates (0-6 word edits of a pool item);
2. times the index: start-up build over the pool plus ``check`` of every candidate
   (ms per candidate includes the build), then sequential ``admit`` and ``nearest(k=1)``;
3. verifies the index against an independent exact path (bag-of-words bound over the
   whole pool, then LCS; no prefix filtering), on all candidates or a sample: novel flag,
   nearest index and score must be identical;
4. runs the Alpaca-style reference on a sample of candidates: tokenize the pool once,
   then ``rouge_scorer._score_lcs`` against every pool item (only scoring is timed; the
   pool is tokenized chunk by chunk so 1M items fit in memory), and checks the decision
   (max F >= threshold), the best score and its first index against the index.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.novelty import HAS_NATIVE, IndexConfig, Match, NoveltyIndex, Verdict
from generator.novelty.rouge import f_from_lcs, lcs_length, tokenize
from generator.settings import load_settings

THRESHOLD = 0.7
VERBS = [
    "write", "explain", "describe", "list", "generate", "create", "give", "provide", "summarize",
    "classify", "translate", "rewrite", "find", "identify", "suggest", "compose", "design", "convert",
    "calculate", "compare", "tell", "make", "outline", "answer", "name", "recommend", "sort", "detect",
    "extract", "predict", "evaluate", "analyze", "paraphrase", "correct", "complete", "choose", "define",
    "estimate", "plan", "draft", "propose", "solve", "simplify", "rank", "tag", "categorize", "imagine",
]
FUNCTION = [
    "the", "a", "of", "to", "and", "in", "for", "with", "on", "an", "that", "is", "this", "from", "by",
    "about", "as", "your", "be", "are", "it", "or", "at", "into", "how", "what", "which", "each", "some",
    "given", "following", "two", "three", "their", "its", "more", "most", "than", "not", "one", "new", "all",
]
ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
          "br", "ch", "cl", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "ou"]
ENDINGS = ["", "", "", "n", "r", "s", "t", "l", "ng", "ck", "st", "ment", "tion", "er", "ly"]


class TextFactory:
    """Seeded instruction-like text: imperative verb, then ~40% function words and ~60%
    content words drawn from a 40K-word vocabulary with Zipf (s = 1.05) frequencies."""

    def __init__(self, seed: int, vocabulary: int = 40_000) -> None:
        self.rng = np.random.default_rng(seed)
        self.content = self._pseudo_words(vocabulary)
        self.words = np.array(VERBS + FUNCTION + self.content, dtype=object)
        weights = 1.0 / np.arange(1, len(self.content) + 1) ** 1.05
        self._content_cdf = np.cumsum(weights) / weights.sum()
        verbs, funcs = 1.0 / np.arange(1, len(VERBS) + 1), 1.0 / np.arange(1, len(FUNCTION) + 1)
        self._verb_p, self._func_p = verbs / verbs.sum(), funcs / funcs.sum()

    def _pseudo_words(self, count: int) -> list[str]:
        seen = set(VERBS) | set(FUNCTION)
        out: list[str] = []
        while len(out) < count:
            draw = self.rng.integers(0, 1 << 30, size=5).tolist()
            word = "".join(ONSETS[draw[1 + i] % len(ONSETS)] + VOWELS[(draw[1 + i] >> 8) % len(VOWELS)]
                           for i in range(1 + draw[0] % 3)) + ENDINGS[draw[4] % len(ENDINGS)]
            if word not in seen:
                seen.add(word)
                out.append(word)
        return out

    def _content_ids(self, count: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self._content_cdf, self.rng.random(count)), len(self.content) - 1)

    def fresh(self, count: int) -> list[str]:
        """``count`` new texts of 5-30 words (mostly 8-20), generated 50K at a time."""
        out: list[str] = []
        for start in range(0, count, 50_000):
            size = min(50_000, count - start)
            lengths = np.clip(np.rint(self.rng.gamma(6.0, 2.3, size)), 5, 30).astype(np.int64)
            ids = len(VERBS) + len(FUNCTION) + self._content_ids(int(lengths.sum()))
            func = self.rng.random(len(ids)) < 0.4
            ids[func] = len(VERBS) + self.rng.choice(len(FUNCTION), int(func.sum()), p=self._func_p)
            ids[np.cumsum(lengths) - lengths] = self.rng.choice(len(VERBS), size, p=self._verb_p)
            chunks = np.split(ids, np.cumsum(lengths)[:-1])
            out.extend(self._render(list(self.words[chunk])) for chunk in chunks)
        return out

    def _render(self, words: list[str]) -> str:
        words[0] = words[0].capitalize()
        if len(words) > 6 and self.rng.random() < 0.3:
            words[int(self.rng.integers(3, len(words) - 2))] += ","
        return " ".join(words) + ("?" if self.rng.random() < 0.15 else ".")

    def near_duplicate(self, text: str) -> str:
        """``text`` with 0-6 word edits (substitute, delete, insert, swap); case and
        punctuation change too, which the tokenizer ignores."""
        words = text.rstrip(".?").replace(",", "").lower().split()
        edits = int(self.rng.choice(7, p=[0.1, 0.25, 0.2, 0.15, 0.12, 0.1, 0.08]))
        for new_id in self._content_ids(edits).tolist():
            op, pos = int(self.rng.integers(4)), int(self.rng.integers(len(words)))
            if op == 0:
                words[pos] = self.content[new_id]
            elif op == 1 and len(words) > 3:
                del words[pos]
            elif op == 2:
                words.insert(pos, self.content[new_id])
            elif pos + 1 < len(words):
                words[pos], words[pos + 1] = words[pos + 1], words[pos]
        return self._render(words)

    def candidates(self, pool: list[str], count: int) -> list[str]:
        """Half near-duplicates of random pool items, half fresh texts, shuffled."""
        near = [self.near_duplicate(pool[int(i)]) for i in self.rng.integers(0, len(pool), count // 2)]
        mixed = near + self.fresh(count - len(near))
        return [mixed[int(i)] for i in self.rng.permutation(len(mixed))]


class ExactPath:
    """Independent exact search: multiset overlap with every pool item (vectorised), F at
    LCS = overlap as a bound, exact LCS for items whose bound reaches the threshold."""

    def __init__(self, pool: list[str]) -> None:
        self.vocab: dict[str, int] = {}
        self.tokens = [[self.vocab.setdefault(t, len(self.vocab)) for t in tokenize(p)] for p in pool]
        self.lengths = np.array([len(t) for t in self.tokens], dtype=np.int64)
        self.flat = np.fromiter((t for ts in self.tokens for t in ts), np.int32, int(self.lengths.sum()))
        # occ[i]: how many earlier copies of the same token its text has (0 for the first)
        occ = [c for ts in self.tokens for c in _occurrences(ts)]
        self.occ = np.array(occ, dtype=np.int32)
        self.ends = np.cumsum(self.lengths)
        self.counts = np.zeros(len(self.vocab) + 1, dtype=np.int32)

    def verdict(self, text: str) -> Verdict:
        cand = [self.vocab.get(t, len(self.vocab)) for t in tokenize(text)]
        n = len(cand)
        if n == 0:
            return Verdict(True, None)
        ids, cnt = np.unique(np.array(cand), return_counts=True)
        self.counts[ids] = cnt
        self.counts[len(self.vocab)] = 0  # unknown tokens match nothing
        hits = np.concatenate(([0], np.cumsum(self.occ < self.counts[self.flat])))
        self.counts[ids] = 0
        overlap = hits[self.ends] - hits[self.ends - self.lengths]
        best: tuple[float, int] | None = None
        for i in np.flatnonzero(overlap * 2 >= THRESHOLD * (n + self.lengths) - 1e-9).tolist():
            if f_from_lcs(int(overlap[i]), n, int(self.lengths[i])) < THRESHOLD:
                continue
            score = f_from_lcs(lcs_length(cand, self.tokens[i]), n, int(self.lengths[i]))
            if score >= THRESHOLD and (best is None or score > best[0]):
                best = (score, i)
        return Verdict(True, None) if best is None else Verdict(False, Match(best[1], "", best[0]))


def _occurrences(tokens: list[int]) -> list[int]:
    seen: dict[int, int] = {}
    out = []
    for t in tokens:
        out.append(seen.get(t, 0))
        seen[t] = out[-1] + 1
    return out


def same(a: Verdict, b: Verdict) -> bool:
    """Identical decision, nearest index and score (texts are not compared)."""
    if a.novel != b.novel or (a.nearest is None) != (b.nearest is None):
        return False
    return a.nearest is None or b.nearest is None or (
        a.nearest.index == b.nearest.index and a.nearest.score == b.nearest.score
    )


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reference(pool: list[str], sample: list[str]) -> tuple[float, list[Verdict]]:
    """Alpaca-style filter on ``sample``: seconds spent scoring, and the verdicts."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    cand_tokens = [scorer._tokenizer.tokenize(c) for c in sample]
    best: list[tuple[float, int]] = [(-1.0, -1)] * len(sample)
    spent = 0.0
    for start in range(0, len(pool), 50_000):
        chunk = [scorer._tokenizer.tokenize(p) for p in pool[start : start + 50_000]]  # untimed, as Alpaca
        for c, tokens in enumerate(cand_tokens):
            t0 = time.perf_counter()
            scores = [rouge_scorer._score_lcs(tokens, pool_tokens).fmeasure for pool_tokens in chunk]
            spent += time.perf_counter() - t0
            top = max(scores)
            if top > best[c][0]:
                best[c] = (top, start + scores.index(top))
    verdicts = [Verdict(True, None) if s < THRESHOLD else Verdict(False, Match(i, "", s)) for s, i in best]
    return spent, verdicts


def run_scale(args: argparse.Namespace) -> None:
    n_pool, n_cand = args.pool_size, args.candidates
    config = IndexConfig(native=load_settings().native)  # SELFINSTRUCT_NATIVE=0: the numpy path
    kernel = "native C kernel" if HAS_NATIVE and config.native else "numpy path, no C kernel"
    head = f"pool {n_pool:,} x candidates {n_cand:,} (seed {args.seed}, threshold {THRESHOLD}, {kernel})"
    print(f"== {head} ==", flush=True)
    t0 = time.perf_counter()
    factory = TextFactory(args.seed)
    pool = factory.fresh(n_pool)
    cands = factory.candidates(pool, n_cand)
    queries = factory.fresh(args.nearest_sample)  # for nearest(): fresh text, never admitted
    del factory
    print(f"data      generated in {time.perf_counter() - t0:.1f} s; e.g. {pool[0]!r} / {cands[0]!r}")

    t0 = time.perf_counter()
    index = NoveltyIndex(THRESHOLD, pool, config)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    verdicts = [index.check(c) for c in cands]
    checks = time.perf_counter() - t0
    per_cand = (build + checks) / n_cand * 1e3
    rss_index = peak_rss_mib()
    novel = sum(v.novel for v in verdicts)
    check_ms = checks / n_cand * 1e3
    print(f"index     build {build:.2f} s + check {checks:.2f} s = {per_cand:.3f} ms/candidate incl. build "
          f"({check_ms:.3f} check only); {novel:,} novel, {n_cand - novel:,} too similar")
    print(f"memory    peak RSS {rss_index:,.0f} MiB after build + checks (whole process: pool text included)")

    # Timing only from here on: the verdicts above are what gets verified.
    sample = cands[: min(len(cands), 2000)]
    t0 = time.perf_counter()
    admitted = sum(index.admit(c).novel for c in sample)
    admit_ms = (time.perf_counter() - t0) / len(sample) * 1e3
    print(f"admit     sequential: {admit_ms:.3f} ms/candidate over {len(sample):,} ({admitted:,} admitted)")
    t0 = time.perf_counter()
    index.nearest("warm up the full index")
    full = time.perf_counter() - t0
    t0 = time.perf_counter()
    for q in queries:
        index.nearest(q, 1)
    near_ms = (time.perf_counter() - t0) / max(1, len(queries)) * 1e3
    print(f"nearest   k=1 for fresh texts: {near_ms:.2f} ms/query over {len(queries)} "
          f"(full inverted index built lazily in {full:.2f} s)")
    del index

    brute_n = n_cand if args.brute_sample is None else min(n_cand, args.brute_sample)
    t0 = time.perf_counter()
    exact = ExactPath(pool)
    pairs = zip(cands[:brute_n], verdicts[:brute_n], strict=True)
    mismatches = sum(not same(exact.verdict(c), v) for c, v in pairs)
    print(f"exact     independent path on {brute_n:,} of {n_cand:,} candidates: "
          f"{brute_n - mismatches:,}/{brute_n:,} identical (novel, nearest index, score) "
          f"[{time.perf_counter() - t0:.0f} s]")
    del exact

    idx_novel = [i for i, v in enumerate(verdicts) if v.novel]
    idx_dup = [i for i, v in enumerate(verdicts) if not v.novel]
    dups = idx_dup[: args.ref_sample // 2]
    picks = dups + idx_novel[: args.ref_sample - len(dups)]
    spent, ref = reference(pool, [cands[i] for i in picks])
    ref_ms = spent / len(picks) * 1e3
    agree = sum(same(r, verdicts[i]) for r, i in zip(ref, picks, strict=True))
    print(f"reference Alpaca-style _score_lcs over the pre-tokenized pool, {len(picks)} candidates "
          f"({sum(not r.novel for r in ref)} too similar): {ref_ms:,.0f} ms/candidate; "
          f"{agree}/{len(picks)} identical (decision, best score, first index)")
    goals = {50_000: "goal >= 10,000x and <= 0.4 ms/candidate", 1_000_000: "goal <= 2 ms/candidate"}
    goal = goals.get(n_pool, "goals are set for 50K and 1M pools")
    print(f"speed-up  {ref_ms / per_cand:,.0f}x per candidate incl. build "
          f"({ref_ms / check_ms:,.0f}x check only); {goal}: {per_cand:.3f} ms")
    print(f"memory    peak RSS {peak_rss_mib():,.0f} MiB for the whole run (incl. the verification paths)\n",
          flush=True)
    if mismatches or agree != len(picks):
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pool-size", type=int, help="one scale only (default: 50K then 1M)")
    parser.add_argument("--candidates", type=int, default=20_000)
    parser.add_argument("--ref-sample", type=int, help="candidates run through the Alpaca-style reference")
    parser.add_argument(
        "--brute-sample", type=int, help="candidates checked by the exact path (default: all; 300 above 100K)"
    )
    parser.add_argument("--nearest-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="20K pool x 2K candidates, small samples")
    parser.add_argument(
        "--numpy", action="store_true", help="do not use the C kernel (sets SELFINSTRUCT_NATIVE=0)"
    )
    args = parser.parse_args()
    if args.numpy and os.environ.get("SELFINSTRUCT_NATIVE") != "0":
        env = {**os.environ, "SELFINSTRUCT_NATIVE": "0"}
        sys.exit(subprocess.run([sys.executable, *sys.argv], env=env, check=False).returncode)
    if args.pool_size is not None:
        if args.ref_sample is None:
            args.ref_sample = 6 if args.pool_size <= 100_000 else 2
        if args.brute_sample is None and args.pool_size > 100_000:
            args.brute_sample = 300
        run_scale(args)
        return
    full = [(50_000, args.candidates, 6), (1_000_000, args.candidates, 2)]
    scales = [(20_000, 2_000, 3)] if args.quick else full
    failed = False
    for pool_size, cands, ref in scales:
        cmd = [sys.executable, __file__, "--pool-size", str(pool_size), "--candidates", str(cands),
               "--ref-sample", str(args.ref_sample or ref), "--seed", str(args.seed),
               "--nearest-sample", str(args.nearest_sample)]
        if args.brute_sample is not None:
            cmd += ["--brute-sample", str(args.brute_sample)]
        failed |= subprocess.run(cmd, check=False).returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
