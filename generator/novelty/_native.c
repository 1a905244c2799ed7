/* Optional native kernel of the novelty index (generator.novelty falls back to numpy).
 *
 * best_match() does, in one call, what NoveltyIndex._best does after the vocabulary
 * lookup: read the planned (element, length, position) key ranges of every sorted
 * segment, count entries per item (l-prefix filter: an item needs `min_hits`), check
 * the exact multiset overlap against the LCS each length needs, and run bit-parallel
 * LCS (Hyyro 2004, multi-word) on the survivors, best bound first. The F score is
 * computed with rouge_score's operation order in IEEE double; build without
 * -ffast-math and with -ffp-contract=off so it rounds exactly like Python.
 *
 * Every array arrives through the buffer protocol (numpy arrays, C-contiguous); the
 * Python side owns dtypes and sizes, and itemsizes are re-checked here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ELEM_BIAS ((int64_t)1 << 31)

typedef struct {
    double bound;
    int64_t item;
} Cand;

static int get(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) return -1;
    if (view->itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: expected itemsize %zd, got %zd", name, itemsize, view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static Py_ssize_t lower_bound(const int64_t *keys, Py_ssize_t len, int64_t key) {
    Py_ssize_t lo = 0, hi = len;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < key) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static Py_ssize_t upper_bound(const int64_t *keys, Py_ssize_t len, int64_t key) {
    Py_ssize_t lo = 0, hi = len;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (keys[mid] <= key) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static double f_from_lcs(int64_t lcs, int64_t target_len, int64_t prediction_len) {
    if (target_len == 0 || prediction_len == 0) return 0.0;
    double precision = (double)lcs / (double)prediction_len;
    double recall = (double)lcs / (double)target_len;
    if (precision + recall > 0) return 2 * precision * recall / (precision + recall);
    return 0.0;
}

static int cmp_cand(const void *a, const void *b) {
    const Cand *x = a, *y = b;
    if (x->bound != y->bound) return x->bound > y->bound ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Shared elements of two ascending, duplicate-free arrays. */
static int64_t overlap(const int32_t *a, Py_ssize_t na, const int32_t *b, Py_ssize_t nb) {
    Py_ssize_t i = 0, j = 0;
    int64_t shared = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j]) i++;
        else if (a[i] > b[j]) j++;
        else { shared++; i++; j++; }
    }
    return shared;
}

/* LCS of the query (as per-symbol bit masks over `words` 64-bit words) and `seq`. */
static int64_t lcs_masks(const int32_t *syms, Py_ssize_t nsyms, const uint64_t *masks, Py_ssize_t words,
                         int64_t n, const int32_t *seq, Py_ssize_t m, uint64_t *v) {
    for (Py_ssize_t w = 0; w < words; w++) v[w] = ~(uint64_t)0;
    for (Py_ssize_t k = 0; k < m; k++) {
        Py_ssize_t lo = 0, hi = nsyms;
        while (lo < hi) {
            Py_ssize_t mid = lo + (hi - lo) / 2;
            if (syms[mid] < seq[k]) lo = mid + 1; else hi = mid;
        }
        if (lo == nsyms || syms[lo] != seq[k]) continue; /* no match: V is unchanged */
        const uint64_t *mk = masks + lo * words;
        uint64_t carry = 0;
        for (Py_ssize_t w = 0; w < words; w++) {
            uint64_t u = v[w] & mk[w];
            uint64_t sum = v[w] + u;
            uint64_t c1 = sum < v[w];
            uint64_t total = sum + carry;
            uint64_t c2 = total < sum;
            v[w] = total | (v[w] & ~mk[w]);
            carry = c1 | c2;
        }
    }
    int64_t zeros = 0;
    for (Py_ssize_t w = 0; w < words; w++) {
        uint64_t valid = (w == words - 1 && n % 64) ? (((uint64_t)1 << (n % 64)) - 1) : ~(uint64_t)0;
        zeros += __builtin_popcountll(~v[w] & valid);
    }
    return zeros;
}

/* Distinct query symbols (sorted) and their bit masks over ceil(n / 64) words; v is
 * scratch for lcs_masks. Returns -1 with MemoryError set on failure. */
static int query_masks(const int32_t *qtids, Py_ssize_t n, int32_t **syms_out, Py_ssize_t *nsyms_out,
                       uint64_t **masks_out, uint64_t **v_out) {
    Py_ssize_t words = (n + 63) / 64;
    int32_t *syms = PyMem_Malloc(sizeof(int32_t) * (n ? n : 1));
    *syms_out = syms;
    if (!syms) { PyErr_NoMemory(); return -1; }
    memcpy(syms, qtids, sizeof(int32_t) * n);
    qsort(syms, n, sizeof(int32_t), cmp_i32);
    Py_ssize_t nsyms = 0;
    for (Py_ssize_t k = 0; k < n; k++)
        if (nsyms == 0 || syms[nsyms - 1] != syms[k]) syms[nsyms++] = syms[k];
    *nsyms_out = nsyms;
    uint64_t *masks = PyMem_Calloc(nsyms * words + 1, sizeof(uint64_t));
    *masks_out = masks;
    *v_out = PyMem_Malloc(sizeof(uint64_t) * (words + 1));
    if (!masks || !*v_out) { PyErr_NoMemory(); return -1; }
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t lo = 0, hi = nsyms;
        while (lo < hi) {
            Py_ssize_t mid = lo + (hi - lo) / 2;
            if (syms[mid] < qtids[k]) lo = mid + 1; else hi = mid;
        }
        masks[lo * words + k / 64] |= (uint64_t)1 << (k % 64);
    }
    return 0;
}

static PyObject *best_match(PyObject *self, PyObject *args) {
    PyObject *o_rows, *o_lo, *o_hi, *o_probe, *seg_keys, *seg_items, *o_extra, *o_counts;
    PyObject *o_lengths, *o_starts, *o_elems, *o_tids, *o_needed, *o_qelems, *o_qtids;
    int min_hits;
    double threshold;
    if (!PyArg_ParseTuple(args, "OOOOO!O!OiOOOOOOOOd", &o_rows, &o_lo, &o_hi, &o_probe, &PyList_Type, &seg_keys,
                          &PyList_Type, &seg_items, &o_extra, &min_hits, &o_counts, &o_lengths, &o_starts, &o_elems,
                          &o_tids, &o_needed, &o_qelems, &o_qtids, &threshold))
        return NULL;
    Py_ssize_t nseg = PyList_GET_SIZE(seg_keys);
    if (PyList_GET_SIZE(seg_items) != nseg) return PyErr_Format(PyExc_ValueError, "segment lists differ");

    enum { ROWS, LO, HI, PROBE, EXTRA, COUNTS, LENGTHS, STARTS, ELEMS, TIDS, NEEDED, QELEMS, QTIDS, NBUF };
    Py_buffer b[NBUF];
    PyObject *objs[NBUF] = {o_rows, o_lo, o_hi, o_probe, o_extra, o_counts, o_lengths, o_starts,
                            o_elems, o_tids, o_needed, o_qelems, o_qtids};
    const Py_ssize_t sizes[NBUF] = {8, 8, 8, 8, 8, 2, 4, 8, 4, 4, 4, 4, 4};
    static const char *names[NBUF] = {"rows", "lo_off", "hi_off", "probe", "extra", "counts", "lengths",
                                      "starts", "elems", "tids", "needed", "query_elems", "query_tids"};
    int got = 0;
    for (; got < NBUF; got++)
        if (get(objs[got], &b[got], sizes[got], got == COUNTS, names[got]) < 0) break;

    Py_buffer *sk = NULL, *si = NULL;
    int segs_got = 0;
    PyObject *result = NULL;
    int64_t *found = NULL, *cands = NULL;
    Cand *order = NULL;
    uint64_t *masks = NULL, *v = NULL;
    int32_t *syms = NULL;
    if (got < NBUF) goto done;

    sk = PyMem_Calloc(nseg ? nseg : 1, sizeof(Py_buffer));
    si = PyMem_Calloc(nseg ? nseg : 1, sizeof(Py_buffer));
    if (!sk || !si) { PyErr_NoMemory(); goto done; }
    for (; segs_got < nseg; segs_got++) {
        if (get(PyList_GET_ITEM(seg_keys, segs_got), &sk[segs_got], 8, 0, "segment keys") < 0) goto done;
        if (get(PyList_GET_ITEM(seg_items, segs_got), &si[segs_got], 4, 0, "segment items") < 0) {
            PyBuffer_Release(&sk[segs_got]);
            goto done;
        }
    }

    const int64_t *rows = b[ROWS].buf, *lo_off = b[LO].buf, *hi_off = b[HI].buf, *probe = b[PROBE].buf;
    const int64_t *extra = b[EXTRA].buf, *starts = b[STARTS].buf;
    uint16_t *counts = b[COUNTS].buf;
    const int32_t *lengths = b[LENGTHS].buf, *elems = b[ELEMS].buf, *tids = b[TIDS].buf;
    const int32_t *needed = b[NEEDED].buf, *qelems = b[QELEMS].buf, *qtids = b[QTIDS].buf;
    Py_ssize_t nplan = b[ROWS].len / 8, nextra = b[EXTRA].len / 8, ncount = b[COUNTS].len / 2;
    Py_ssize_t nitems = b[LENGTHS].len / 4, nneeded = b[NEEDED].len / 4;
    Py_ssize_t nq = b[QELEMS].len / 4, n = b[QTIDS].len / 4;
    if (ncount < nitems) { PyErr_SetString(PyExc_ValueError, "counts buffer too small"); goto done; }

    /* 1. Entries of every planned key range, plus the tail's. */
    Py_ssize_t total = nextra;
    Py_ssize_t *ranges = NULL;
    if (nplan && nseg) {
        ranges = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * nplan * nseg);
        if (!ranges) { PyErr_NoMemory(); goto done; }
        for (Py_ssize_t s = 0; s < nseg; s++) {
            const int64_t *keys = sk[s].buf;
            Py_ssize_t len = sk[s].len / 8;
            for (Py_ssize_t r = 0; r < nplan; r++) {
                int64_t base = (probe[rows[r]] + ELEM_BIAS) << 31;
                Py_ssize_t a = lower_bound(keys, len, base + lo_off[r]);
                Py_ssize_t z = upper_bound(keys, len, base + hi_off[r]);
                ranges[2 * (s * nplan + r)] = a;
                ranges[2 * (s * nplan + r) + 1] = z;
                total += z - a;
            }
        }
    }
    found = PyMem_Malloc(sizeof(int64_t) * (total ? total : 1));
    if (!found) { PyMem_Free(ranges); PyErr_NoMemory(); goto done; }
    Py_ssize_t nfound = 0;
    for (Py_ssize_t s = 0; ranges && s < nseg; s++) {
        const int32_t *items = si[s].buf;
        for (Py_ssize_t r = 0; r < nplan; r++)
            for (Py_ssize_t e = ranges[2 * (s * nplan + r)]; e < ranges[2 * (s * nplan + r) + 1]; e++)
                found[nfound++] = items[e];
    }
    PyMem_Free(ranges);
    for (Py_ssize_t e = 0; e < nextra; e++) found[nfound++] = extra[e];

    /* 2. l-prefix filter: items with min_hits entries (counts is all zero between calls). */
    cands = PyMem_Malloc(sizeof(int64_t) * (nfound ? nfound : 1));
    if (!cands) { PyErr_NoMemory(); goto done; }
    Py_ssize_t ncand = 0;
    for (Py_ssize_t e = 0; e < nfound; e++) {
        int64_t item = found[e];
        if (item < 0 || item >= nitems) { PyErr_SetString(PyExc_IndexError, "item out of range"); break; }
        if (counts[item] < 0xFFFF && ++counts[item] == min_hits) cands[ncand++] = item;
    }
    for (Py_ssize_t e = 0; e < nfound; e++)
        if (found[e] >= 0 && found[e] < nitems) counts[found[e]] = 0;
    if (PyErr_Occurred()) goto done;

    /* 3. Exact multiset overlap must reach the LCS this length needs. */
    order = PyMem_Malloc(sizeof(Cand) * (ncand ? ncand : 1));
    if (!order) { PyErr_NoMemory(); goto done; }
    Py_ssize_t nord = 0;
    for (Py_ssize_t c = 0; c < ncand; c++) {
        int64_t item = cands[c], m = lengths[item];
        int64_t need = needed[m < nneeded - 1 ? m : nneeded - 1];
        int64_t shared = overlap(qelems, nq, elems + starts[item], (Py_ssize_t)m);
        if (shared >= need) {
            order[nord].bound = f_from_lcs(shared, n, m);
            order[nord++].item = item;
        }
    }
    if (nord == 0) { result = Py_NewRef(Py_None); goto done; }
    qsort(order, nord, sizeof(Cand), cmp_cand);

    /* 4. Exact LCS, best bound first. */
    Py_ssize_t words = (n + 63) / 64, nsyms = 0;
    if (query_masks(qtids, n, &syms, &nsyms, &masks, &v) < 0) goto done;
    double best = -1.0;
    int64_t best_item = -1;
    for (Py_ssize_t c = 0; c < nord; c++) {
        if (best_item >= 0 && order[c].bound < best) break;
        int64_t item = order[c].item, m = lengths[item];
        int64_t lcs = lcs_masks(syms, nsyms, masks, words, n, tids + starts[item], (Py_ssize_t)m, v);
        double score = f_from_lcs(lcs, n, m);
        if (score >= threshold && (best_item < 0 || score > best || (score == best && item < best_item))) {
            best = score;
            best_item = item;
        }
    }
    result = best_item < 0 ? Py_NewRef(Py_None) : Py_BuildValue("(dL)", best, (long long)best_item);

done:
    for (int k = 0; k < segs_got; k++) { PyBuffer_Release(&sk[k]); PyBuffer_Release(&si[k]); }
    PyMem_Free(sk);
    PyMem_Free(si);
    for (int k = 0; k < got; k++) PyBuffer_Release(&b[k]);
    PyMem_Free(found);
    PyMem_Free(cands);
    PyMem_Free(order);
    PyMem_Free(masks);
    PyMem_Free(v);
    PyMem_Free(syms);
    return result;
}

/* fill_inverted(elems, lengths, base, cursor, out): counting-sort fill of an inverted
 * index. Item i's elements are elems[sum(lengths[:i]) : ...]; element e goes to row
 * e - base; cursor[row] must start at the row's offset and ends at the next one's. */
static PyObject *fill_inverted(PyObject *self, PyObject *args) {
    PyObject *o_elems, *o_lengths, *o_cursor, *o_out;
    long long base;
    if (!PyArg_ParseTuple(args, "OOLOO", &o_elems, &o_lengths, &base, &o_cursor, &o_out)) return NULL;
    Py_buffer e, l, c, o;
    if (get(o_elems, &e, 4, 0, "elems") < 0) return NULL;
    if (get(o_lengths, &l, 4, 0, "lengths") < 0) { PyBuffer_Release(&e); return NULL; }
    if (get(o_cursor, &c, 8, 1, "cursor") < 0) { PyBuffer_Release(&e); PyBuffer_Release(&l); return NULL; }
    if (get(o_out, &o, 4, 1, "out") < 0) {
        PyBuffer_Release(&e); PyBuffer_Release(&l); PyBuffer_Release(&c);
        return NULL;
    }
    const int32_t *elems = e.buf, *lengths = l.buf;
    int64_t *cursor = c.buf;
    int32_t *out = o.buf;
    Py_ssize_t nitems = l.len / 4, nrows = c.len / 8, nout = o.len / 4, nelems = e.len / 4, at = 0;
    int bad = 0;
    for (Py_ssize_t i = 0; i < nitems && !bad; i++) {
        for (int32_t k = 0; k < lengths[i]; k++, at++) {
            int64_t row = (int64_t)elems[at] - base;
            if (at >= nelems || row < 0 || row >= nrows || cursor[row] < 0 || cursor[row] >= nout) { bad = 1; break; }
            out[cursor[row]++] = (int32_t)i;
        }
    }
    PyBuffer_Release(&e); PyBuffer_Release(&l); PyBuffer_Release(&c); PyBuffer_Release(&o);
    if (bad) { PyErr_SetString(PyExc_IndexError, "fill_inverted: inconsistent arrays"); return NULL; }
    Py_RETURN_NONE;
}

typedef struct {
    double score;
    int64_t item;
} Scored;

/* a ranks after b: lower score, or same score and higher index */
static int worse(Scored a, Scored b) { return a.score < b.score || (a.score == b.score && a.item > b.item); }

static void heap_down(Scored *h, Py_ssize_t len, Py_ssize_t i) {
    for (;;) {
        Py_ssize_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < len && worse(h[l], h[w])) w = l;
        if (r < len && worse(h[r], h[w])) w = r;
        if (w == i) return;
        Scored t = h[i]; h[i] = h[w]; h[w] = t;
        i = w;
    }
}

static void heap_up(Scored *h, Py_ssize_t i) {
    while (i > 0) {
        Py_ssize_t p = (i - 1) / 2;
        if (!worse(h[i], h[p])) return;
        Scored t = h[i]; h[i] = h[p]; h[p] = t;
        i = p;
    }
}

static int cmp_scored(const void *a, const void *b) {
    const Scored *x = a, *y = b;
    if (worse(*x, *y)) return 1;
    if (worse(*y, *x)) return -1;
    return 0;
}

/* k-th largest of vals[0..len) (0-based k), reordering vals. */
static double kth_largest(double *vals, Py_ssize_t len, Py_ssize_t k) {
    Py_ssize_t lo = 0, hi = len - 1;
    while (lo < hi) {
        double pivot = vals[lo + (hi - lo) / 2];
        Py_ssize_t i = lo, j = hi;
        while (i <= j) {
            while (vals[i] > pivot) i++;
            while (vals[j] < pivot) j--;
            if (i <= j) { double t = vals[i]; vals[i] = vals[j]; vals[j] = t; i++; j--; }
        }
        if (k <= j) hi = j; else if (k >= i) lo = i; else return vals[k];
    }
    return vals[k];
}

/* Score candidates (sorted best bound first) into the top-k heap; stop once no bound can
 * enter it. */
static void score_into(const Cand *cands, Py_ssize_t ncand, Scored *heap, Py_ssize_t *hlen, Py_ssize_t k,
                       const int32_t *syms, Py_ssize_t nsyms, const uint64_t *masks, Py_ssize_t words, int64_t n,
                       const int32_t *lengths, const int64_t *starts, const int32_t *tids, uint64_t *v) {
    for (Py_ssize_t c = 0; c < ncand; c++) {
        if (*hlen == k && cands[c].bound < heap[0].score) break;
        int64_t item = cands[c].item, m = lengths[item];
        Scored s = {f_from_lcs(lcs_masks(syms, nsyms, masks, words, n, tids + starts[item], (Py_ssize_t)m, v), n, m),
                    item};
        if (*hlen < k) { heap[*hlen] = s; heap_up(heap, (*hlen)++); }
        else if (worse(heap[0], s)) { heap[0] = s; heap_down(heap, k, 0); }
    }
}

/* nearest(query_elems, query_tids, use, unseen_bound, base, offsets, items, extra, counts, lengths,
 *         starts, elems, tids, k) -> ([(score, item)], certified):
 * top-k by ROUGE-L F among the items holding one of the first `use` (rarest) query
 * elements: their exact multiset overlap bounds F, and LCS runs best bound first. Items
 * holding none of them share at most the other elements, so F <= unseen_bound for them:
 * the ranking is the exact top-k of the whole corpus when `certified` (k-th best score
 * above that bound), or when use covers every query element (the rest then score 0).
 * Ranking: best first, ties by lower index. */
static PyObject *nearest(PyObject *self, PyObject *args) {
    PyObject *o_qe, *o_qt, *o_off, *o_items, *o_extra, *o_counts, *o_len, *o_starts, *o_elems, *o_tids;
    long long base;
    Py_ssize_t k, use;
    double unseen_bound;
    if (!PyArg_ParseTuple(args, "OOndLOOOOOOOOn", &o_qe, &o_qt, &use, &unseen_bound, &base, &o_off, &o_items,
                          &o_extra, &o_counts, &o_len, &o_starts, &o_elems, &o_tids, &k))
        return NULL;
    enum { QE, QT, OFF, ITEMS, EXTRA, COUNTS, LEN, STARTS, ELEMS, TIDS, NBUF };
    PyObject *objs[NBUF] = {o_qe, o_qt, o_off, o_items, o_extra, o_counts, o_len, o_starts, o_elems, o_tids};
    const Py_ssize_t sizes[NBUF] = {4, 4, 8, 4, 8, 2, 4, 8, 4, 4};
    static const char *names[NBUF] = {"query_elems", "query_tids", "offsets", "items", "extra", "counts",
                                      "lengths", "starts", "elems", "tids"};
    Py_buffer b[NBUF];
    int got = 0;
    for (; got < NBUF; got++)
        if (get(objs[got], &b[got], sizes[got], got == COUNTS, names[got]) < 0) break;
    PyObject *result = NULL;
    int64_t *touched = NULL;
    double *bounds = NULL, *scratch = NULL;
    Cand *cands = NULL;
    Scored *heap = NULL;
    int32_t *syms = NULL;
    uint64_t *masks = NULL, *v = NULL;
    if (got < NBUF) goto done;
    const int32_t *qe = b[QE].buf, *qt = b[QT].buf, *items = b[ITEMS].buf, *lengths = b[LEN].buf,
                  *tids = b[TIDS].buf, *elems = b[ELEMS].buf;
    const int64_t *offsets = b[OFF].buf, *extra = b[EXTRA].buf, *starts = b[STARTS].buf;
    uint16_t *counts = b[COUNTS].buf;
    Py_ssize_t nq = b[QE].len / 4, n = b[QT].len / 4, nrows = b[OFF].len / 8 - 1, nextra = b[EXTRA].len / 8;
    Py_ssize_t nitems = b[LEN].len / 4, npost = b[ITEMS].len / 4;
    if (b[COUNTS].len / 2 < nitems) { PyErr_SetString(PyExc_ValueError, "counts buffer too small"); goto done; }
    if (k < 1 || use < 0 || use > nq) { PyErr_SetString(PyExc_ValueError, "bad k or use"); goto done; }

    /* 1. Items holding a counted element (counts is zero between calls); the extra
     * (tail) postings must hold only counted elements too. */
    Py_ssize_t total = nextra;
    for (Py_ssize_t q = 0; q < use; q++) {
        int64_t row = (int64_t)qe[q] - base;
        if (row >= 0 && row < nrows) total += offsets[row + 1] - offsets[row];
    }
    touched = PyMem_Malloc(sizeof(int64_t) * (total ? total : 1));
    if (!touched) { PyErr_NoMemory(); goto done; }
    Py_ssize_t nt = 0;
    for (Py_ssize_t q = 0; q <= use; q++) {
        const int32_t *p32 = NULL;
        const int64_t *p64 = NULL;
        Py_ssize_t len = 0;
        if (q < use) {
            int64_t row = (int64_t)qe[q] - base;
            if (row < 0 || row >= nrows) continue;
            if (offsets[row] < 0 || offsets[row + 1] > npost) { PyErr_SetString(PyExc_IndexError, "offsets"); break; }
            p32 = items + offsets[row];
            len = offsets[row + 1] - offsets[row];
        } else {
            p64 = extra;
            len = nextra;
        }
        for (Py_ssize_t e = 0; e < len; e++) {
            int64_t item = p32 ? p32[e] : p64[e];
            if (item < 0 || item >= nitems) { PyErr_SetString(PyExc_IndexError, "item out of range"); break; }
            if (counts[item] == 0) touched[nt++] = item;
            if (counts[item] < 0xFFFF) counts[item]++; /* saturated counts are recounted below */
        }
        if (PyErr_Occurred()) break;
    }
    bounds = PyMem_Malloc(sizeof(double) * (nt ? nt : 1));
    if (!bounds && !PyErr_Occurred()) PyErr_NoMemory();
    for (Py_ssize_t t = 0; t < nt; t++) {
        int64_t item = touched[t];
        /* counted every element: the count is the overlap; else merge with the item */
        int64_t shared = use == nq && counts[item] < 0xFFFF ? counts[item]
                                                            : overlap(qe, nq, elems + starts[item], lengths[item]);
        if (bounds) bounds[t] = f_from_lcs(shared, n, lengths[item]);
        counts[item] = 0;
    }
    if (PyErr_Occurred()) goto done;

    /* 2. Best bounds first: the top max(k, 32) by bound, then whatever can still enter. */
    Py_ssize_t first = k > 32 ? k : 32;
    double cut = -1.0;
    if (nt > first) {
        scratch = PyMem_Malloc(sizeof(double) * nt);
        if (!scratch) { PyErr_NoMemory(); goto done; }
        memcpy(scratch, bounds, sizeof(double) * nt);
        cut = kth_largest(scratch, nt, first - 1);
    }
    cands = PyMem_Malloc(sizeof(Cand) * (nt ? nt : 1));
    heap = PyMem_Malloc(sizeof(Scored) * k);
    if (!cands || !heap) { PyErr_NoMemory(); goto done; }
    Py_ssize_t words = (n + 63) / 64, nsyms = 0, hlen = 0;
    if (query_masks(qt, n, &syms, &nsyms, &masks, &v) < 0) goto done;
    for (int phase = 0; phase < 2; phase++) {
        double floor = phase == 0 ? cut : (hlen == k ? heap[0].score : -1.0);
        Py_ssize_t nc = 0;
        for (Py_ssize_t t = 0; t < nt; t++) {
            int in_first = bounds[t] >= cut;
            if (phase == 0 ? in_first : (!in_first && bounds[t] >= floor)) {
                cands[nc].bound = bounds[t];
                cands[nc++].item = touched[t];
            }
        }
        qsort(cands, nc, sizeof(Cand), cmp_cand);
        score_into(cands, nc, heap, &hlen, k, syms, nsyms, masks, words, n, lengths, starts, tids, v);
    }
    int certified = use == nq || (hlen == k && heap[0].score > unseen_bound);
    qsort(heap, hlen, sizeof(Scored), cmp_scored);
    PyObject *ranked = PyList_New(hlen);
    for (Py_ssize_t h = 0; ranked && h < hlen; h++) {
        PyObject *pair = Py_BuildValue("(dL)", heap[h].score, (long long)heap[h].item);
        if (!pair) { Py_CLEAR(ranked); break; }
        PyList_SET_ITEM(ranked, h, pair);
    }
    if (ranked) result = Py_BuildValue("(NO)", ranked, certified ? Py_True : Py_False);

done:
    for (int g = 0; g < got; g++) PyBuffer_Release(&b[g]);
    PyMem_Free(touched);
    PyMem_Free(bounds);
    PyMem_Free(scratch);
    PyMem_Free(cands);
    PyMem_Free(heap);
    PyMem_Free(syms);
    PyMem_Free(masks);
    PyMem_Free(v);
    return result;
}

static PyMethodDef methods[] = {
    {"best_match", best_match, METH_VARARGS,
     "best_match(rows, lo_off, hi_off, probe, seg_keys, seg_items, extra, min_hits, counts, lengths, "
     "starts, elems, tids, needed, query_elems, query_tids, threshold) -> (score, item) | None"},
    {"fill_inverted", fill_inverted, METH_VARARGS, "fill_inverted(elems, lengths, base, cursor, out) -> None"},
    {"nearest", nearest, METH_VARARGS,
     "nearest(query_elems, query_tids, use, unseen_bound, base, offsets, items, extra, counts, lengths, "
     "starts, elems, tids, k) -> ([(score, item)], certified)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "generator._native", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
